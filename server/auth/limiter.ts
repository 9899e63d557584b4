import type { PrismaClient } from '../generated/prisma/client';

export interface LimitRule {
  /** Names the keys this limiter counts (`signin-ip`): each key is stored as `<kind>:<key>`. */
  kind: string;
  windowMs: number;
  max: number;
}

// Each event has this chance of sweeping its kind's closed windows, keeping the table to the keys seen lately.
const SWEEP_CHANCE = 0.01;

/**
 * Counts events per key in PostgreSQL, so every web process sees the same counts (an in-memory
 * counter gives a client N times the limit behind N processes). A window opens at a key's first
 * event and lasts `windowMs`; at `max` events the key is blocked until the window closes.
 */
export function createLimiter(prisma: PrismaClient, { kind, windowMs, max }: LimitRule) {
  const stored = (key: string) => `${kind}:${key}`;
  return {
    /** When `key` may try again, if it is at its limit now; null if it may go ahead. */
    async blockedUntil(key: string): Promise<Date | null> {
      const row = await prisma.rateLimit.findUnique({ where: { key: stored(key) }, select: { count: true, windowStart: true } });
      if (!row) return null;
      const until = new Date(row.windowStart.getTime() + windowMs);
      return row.count >= max && until.getTime() > Date.now() ? until : null;
    },

    /** Counts one event, opening a new window when the last one has closed (one statement: concurrent requests each count). */
    async record(key: string): Promise<void> {
      const now = new Date();
      const closed = new Date(now.getTime() - windowMs);
      await prisma.$executeRaw`
        INSERT INTO "RateLimit" ("key", "count", "windowStart") VALUES (${stored(key)}, 1, ${now})
        ON CONFLICT ("key") DO UPDATE SET
          "count" = CASE WHEN "RateLimit"."windowStart" <= ${closed} THEN 1 ELSE "RateLimit"."count" + 1 END,
          "windowStart" = CASE WHEN "RateLimit"."windowStart" <= ${closed} THEN ${now} ELSE "RateLimit"."windowStart" END`;
      if (Math.random() < SWEEP_CHANCE) {
        await prisma.rateLimit.deleteMany({ where: { key: { startsWith: `${kind}:` }, windowStart: { lte: closed } } });
      }
    },

    async reset(key: string): Promise<void> {
      await prisma.rateLimit.deleteMany({ where: { key: stored(key) } });
    },
  };
}
