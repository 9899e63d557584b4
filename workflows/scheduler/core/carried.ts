import type { SchedulerState, WaitingJob } from './types';

/**
 * The waiting list as it crosses continue-as-new. The next run reads it back from PostgreSQL
 * (activities/carried-waiting.ts), in parts that each stay far below Temporal's 2 MB payload
 * limit, so the list's length is not bounded by one payload; what it costs is the size of those
 * parts in the next run's history and their round trip. As objects a waiting job took about 250
 * bytes, as the columns below about 50, and deflate (the payload codec's, server/temporal/codec.ts)
 * takes that to about 18. What deflate cannot shrink is entropy, so the packing removes what it
 * would otherwise have to code: job ids that are UUIDs go as their 32 hex digits run together (no
 * quotes, commas or dashes, 16 bytes of entropy each); a job's team, user, tier and model go as one
 * index into the distinct combinations (a user's jobs share one), not as four; times and sequence
 * numbers as steps from the previous job; fields that are rarely set only where set.
 */
export interface PackedWaiting {
  /** Every job id when all are lowercase UUIDs, as their hex digits run together (32 a job); else "". */
  uuidHex: string;
  /** The job ids, when not all are UUIDs (`uuidHex` empty). */
  jobIds: string[];
  /** Every team, user, tier and model id of the waiting jobs, once. */
  words: string[];
  /** Each distinct (team, user, tier, model) of the waiting jobs: four indexes into `words`. */
  profiles: number[];
  /** Per job: the index of its profile. */
  jobProfiles: number[];
  /** Per job: `enqueuedAt` minus the previous job's (the first: itself). */
  enqueuedSteps: number[];
  /** Per job: `seq` minus the previous job's (the first: itself). */
  seqSteps: number[];
  /** [job index, priority] where not 0. */
  priorities: [number, number][];
  /** [job index, boost] where not 0. */
  boosts: [number, number][];
  /** [job index, fallbackSince] where set. */
  fallbackSince: [number, number][];
  /** [job index, avoid] where not empty. */
  avoid: [number, string[]][];
  /** Indexes of the batchable jobs. */
  batchable: number[];
}

/** What continue-as-new carries in its input: the state without the waiting list. */
export type CarriedState = Omit<SchedulerState, 'waiting'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SEP = '\u0000';

export function packWaiting(waiting: readonly WaitingJob[]): PackedWaiting {
  const words: string[] = [];
  const wordIndex = new Map<string, number>();
  const word = (value: string) => {
    let index = wordIndex.get(value);
    if (index === undefined) {
      index = words.push(value) - 1;
      wordIndex.set(value, index);
    }
    return index;
  };
  const profileIndex = new Map<string, number>();
  const packed: PackedWaiting = {
    uuidHex: '',
    jobIds: [],
    words,
    profiles: [],
    jobProfiles: [],
    enqueuedSteps: [],
    seqSteps: [],
    priorities: [],
    boosts: [],
    fallbackSince: [],
    avoid: [],
    batchable: [],
  };
  const uuids = waiting.length > 0 && waiting.every((job) => UUID.test(job.jobId));
  if (uuids) packed.uuidHex = waiting.map((job) => job.jobId.replaceAll('-', '')).join('');
  let enqueuedAt = 0;
  let seq = 0;
  waiting.forEach((job, i) => {
    if (!uuids) packed.jobIds.push(job.jobId);
    const key = `${job.teamId}${SEP}${job.userId}${SEP}${job.tier}${SEP}${job.model}`;
    let profile = profileIndex.get(key);
    if (profile === undefined) {
      profile = packed.profiles.push(word(job.teamId), word(job.userId), word(job.tier), word(job.model)) / 4 - 1;
      profileIndex.set(key, profile);
    }
    packed.jobProfiles.push(profile);
    packed.enqueuedSteps.push(job.enqueuedAt - enqueuedAt);
    packed.seqSteps.push(job.seq - seq);
    enqueuedAt = job.enqueuedAt;
    seq = job.seq;
    if (job.priority !== 0) packed.priorities.push([i, job.priority]);
    if (job.boost !== 0) packed.boosts.push([i, job.boost]);
    if (job.fallbackSince !== null) packed.fallbackSince.push([i, job.fallbackSince]);
    if (job.avoid.length > 0) packed.avoid.push([i, job.avoid]);
    if (job.batchable) packed.batchable.push(i);
  });
  return packed;
}

/** The waiting list as `packWaiting` packed it. */
export function unpackWaiting(packed: PackedWaiting): WaitingJob[] {
  const priorities = new Map(packed.priorities);
  const boosts = new Map(packed.boosts);
  const fallbackSince = new Map(packed.fallbackSince);
  const avoid = new Map(packed.avoid);
  const batchable = new Set(packed.batchable);
  const { words, profiles, uuidHex } = packed;
  const jobId = (i: number) => {
    if (uuidHex === '') return packed.jobIds[i]!;
    const hex = uuidHex.slice(i * 32, i * 32 + 32);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  const waiting: WaitingJob[] = [];
  let enqueuedAt = 0;
  let seq = 0;
  packed.jobProfiles.forEach((profile, i) => {
    enqueuedAt += packed.enqueuedSteps[i]!;
    seq += packed.seqSteps[i]!;
    const at = profile * 4;
    waiting.push({
      jobId: jobId(i),
      teamId: words[profiles[at]!]!,
      userId: words[profiles[at + 1]!]!,
      tier: words[profiles[at + 2]!]!,
      model: words[profiles[at + 3]!]!,
      priority: priorities.get(i) ?? 0,
      boost: boosts.get(i) ?? 0,
      enqueuedAt,
      seq,
      fallbackSince: fallbackSince.get(i) ?? null,
      avoid: avoid.get(i) ?? [],
      batchable: batchable.has(i),
    });
  });
  return waiting;
}
