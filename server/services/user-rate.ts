import { LimitError } from '../errors';

const SWEEP_AT = 10_000;

export interface RateRule {
  /** Requests a user may make at once. */
  burst: number;
  /** Requests a second a user may keep making. */
  perSecond: number;
}

/**
 * Per-user token buckets for requests that cost others something (a Temporal query to the one
 * scheduler workflow, a room join's database check). In this process's memory: the point is
 * that one user cannot hog a process; with N web processes a user gets N times the rate.
 */
export function createUserRate({ burst, perSecond }: RateRule, what: string) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  // A bucket refilled to full is what a new one would be: forgetting it loses nothing.
  const sweep = (now: number) => {
    for (const [userId, bucket] of buckets) if (bucket.tokens + ((now - bucket.at) / 1000) * perSecond >= burst) buckets.delete(userId);
  };
  return {
    /** Takes one request from `userId`'s bucket, or throws a LimitError saying when to retry. */
    take(userId: string, now = Date.now()): void {
      const bucket = buckets.get(userId) ?? { tokens: burst, at: now };
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
      bucket.at = now;
      if (bucket.tokens < 1) {
        buckets.set(userId, bucket);
        const retryAt = new Date(now + Math.ceil(((1 - bucket.tokens) / perSecond) * 1000));
        throw new LimitError(`Too many ${what} at once; wait a moment and try again.`, retryAt);
      }
      bucket.tokens -= 1;
      buckets.set(userId, bucket);
      if (buckets.size > SWEEP_AT) sweep(now);
    },
  };
}

export type UserRate = ReturnType<typeof createUserRate>;
