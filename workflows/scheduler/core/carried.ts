import type { SchedulerState, WaitingJob } from './types';

/**
 * The waiting list as continue-as-new carries it: columns instead of one object per job, team,
 * user, tier and model ids as indexes into one dictionary, times and sequence numbers as steps
 * from the previous job, and the rarely set fields listed only where set. The whole state is the
 * next run's input, one payload, and Temporal refuses payloads past 2 MB (the dev server warns
 * from 512 KB): as objects a waiting job took about 250 bytes, so about 8,000 waiting jobs would
 * have stopped the scheduler from continuing as new at all.
 */
export interface PackedWaiting {
  jobIds: string[];
  /** Every team, user, tier and model id of the waiting jobs, once. */
  words: string[];
  /** Per job: indexes into `words`. */
  teams: number[];
  users: number[];
  tiers: number[];
  models: number[];
  priorities: number[];
  boosts: number[];
  /** Per job: `enqueuedAt` minus the previous job's (the first: itself). */
  enqueuedSteps: number[];
  /** Per job: `seq` minus the previous job's (the first: itself). */
  seqSteps: number[];
  /** [job index, fallbackSince] where set. */
  fallbackSince: [number, number][];
  /** [job index, avoid] where not empty. */
  avoid: [number, string[]][];
}

export type CarriedState = Omit<SchedulerState, 'waiting'> & { packedWaiting: PackedWaiting };

export function packState({ waiting, ...rest }: SchedulerState): CarriedState {
  const words: string[] = [];
  const indexes = new Map<string, number>();
  const word = (value: string) => {
    let index = indexes.get(value);
    if (index === undefined) {
      index = words.push(value) - 1;
      indexes.set(value, index);
    }
    return index;
  };
  const packed: PackedWaiting = {
    jobIds: [],
    words,
    teams: [],
    users: [],
    tiers: [],
    models: [],
    priorities: [],
    boosts: [],
    enqueuedSteps: [],
    seqSteps: [],
    fallbackSince: [],
    avoid: [],
  };
  let enqueuedAt = 0;
  let seq = 0;
  waiting.forEach((job, i) => {
    packed.jobIds.push(job.jobId);
    packed.teams.push(word(job.teamId));
    packed.users.push(word(job.userId));
    packed.tiers.push(word(job.tier));
    packed.models.push(word(job.model));
    packed.priorities.push(job.priority);
    packed.boosts.push(job.boost);
    packed.enqueuedSteps.push(job.enqueuedAt - enqueuedAt);
    packed.seqSteps.push(job.seq - seq);
    enqueuedAt = job.enqueuedAt;
    seq = job.seq;
    if (job.fallbackSince !== null) packed.fallbackSince.push([i, job.fallbackSince]);
    if (job.avoid.length > 0) packed.avoid.push([i, job.avoid]);
  });
  return { ...rest, packedWaiting: packed };
}

/** The state as `packState` packed it. */
export function unpackState({ packedWaiting: packed, ...rest }: CarriedState): SchedulerState {
  const fallbackSince = new Map(packed.fallbackSince);
  const avoid = new Map(packed.avoid);
  const waiting: WaitingJob[] = [];
  let enqueuedAt = 0;
  let seq = 0;
  packed.jobIds.forEach((jobId, i) => {
    enqueuedAt += packed.enqueuedSteps[i]!;
    seq += packed.seqSteps[i]!;
    waiting.push({
      jobId,
      teamId: packed.words[packed.teams[i]!]!,
      userId: packed.words[packed.users[i]!]!,
      tier: packed.words[packed.tiers[i]!]!,
      model: packed.words[packed.models[i]!]!,
      priority: packed.priorities[i]!,
      boost: packed.boosts[i]!,
      enqueuedAt,
      seq,
      fallbackSince: fallbackSince.get(i) ?? null,
      avoid: avoid.get(i) ?? [],
    });
  });
  return { ...rest, waiting };
}
