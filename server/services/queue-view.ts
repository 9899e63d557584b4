import { decodeTeamQueue, teamJobIds, type QueueSnapshot } from '../../workflows/scheduler';
import type { QueueJobInfo, QueuePoolEvent, QueueTeamEvent } from '../realtime/events';

/** A job named by a team's part of the snapshot: team and id, as the scheduler has them. */
export interface TeamJobRef {
  teamId: string;
  jobId: string;
}

export type JobDetails = Map<string, QueueJobInfo>;

/** The events a web process sends from one snapshot: pure, so `queue.get` and the broadcaster build the same. */
export function poolEvent(snap: QueueSnapshot, pool: QueueSnapshot['pools'][number]): QueuePoolEvent {
  return { ...pool, version: snap.version, at: snap.at };
}

export function teamEvent(snap: QueueSnapshot, teamId: string, details: JobDetails): QueueTeamEvent {
  const view = decodeTeamQueue(snap, teamId);
  const withJob = <T extends { jobId: string }>(entry: T) => ({ ...entry, job: details.get(entry.jobId) ?? null });
  return {
    teamId,
    version: snap.version,
    at: snap.at,
    waiting: view.waiting.map(withJob),
    running: view.running.map(withJob),
  };
}

export const teamRefs = (snap: QueueSnapshot, teamIds: Iterable<string>): TeamJobRef[] =>
  [...teamIds].flatMap((teamId) => teamJobIds(snap, teamId).map((jobId) => ({ teamId, jobId })));
