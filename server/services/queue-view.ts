import { decodeTeamQueue, teamJobIds, type QueueSnapshot } from '../../workflows/scheduler/core';
import type { QueueJobInfo, QueuePoolEvent, QueueTeamEvent } from '../realtime/events';

/** A job named by a team's part of the snapshot: team and id, as the scheduler has them. */
export interface TeamJobRef {
  teamId: string;
  jobId: string;
}

/** A job's row as the queue shows it: its author (which the snapshot leaves out) and what members may know of it. */
export interface JobDetail {
  userId: string;
  info: QueueJobInfo;
}

export type JobDetails = Map<string, JobDetail>;

/** The events a web process sends from one snapshot: pure, so `queue.get` and the broadcaster build the same. */
export function poolEvent(snap: QueueSnapshot, pool: QueueSnapshot['pools'][number]): QueuePoolEvent {
  return { ...pool, version: snap.version, at: snap.at };
}

export function teamEvent(snap: QueueSnapshot, teamId: string, details: JobDetails): QueueTeamEvent {
  const view = decodeTeamQueue(snap, teamId);
  return {
    teamId,
    version: snap.version,
    at: snap.at,
    // Field by field, not `{ ...entry }`: with thousands of jobs a spread costs ~20 ms, this well under 1.
    waiting: view.waiting.map(({ jobId, model, pool, position, poolPosition, etaMs, blocked, since }) => {
      const detail = details.get(jobId);
      return { jobId, model, pool, position, poolPosition, etaMs, blocked, since, userId: detail?.userId ?? '', job: detail?.info ?? null };
    }),
    running: view.running.map((entry) => ({ ...entry, job: details.get(entry.jobId)?.info ?? null })),
  };
}

export const teamRefs = (snap: QueueSnapshot, teamIds: Iterable<string>): TeamJobRef[] =>
  [...teamIds].flatMap((teamId) => teamJobIds(snap, teamId).map((jobId) => ({ teamId, jobId })));
