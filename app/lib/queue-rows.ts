import type { QueueTeamEvent } from '../../server/realtime/events';

export type OwnWaitingJob = QueueTeamEvent['waiting'][number];

/** A pool's waiting list as a member sees it: their team's jobs, and the others' as counts between them. */
export type QueueRow =
  | { kind: 'job'; job: OwnWaitingJob }
  | { kind: 'others'; count: number; where: 'ahead' | 'between' | 'behind' | 'only' };

/**
 * Interleaves `own` (the viewer's teams' waiting jobs of one pool) with the other teams' jobs,
 * which are known only as the gaps between consecutive pool positions: jobs at positions 2 and 6
 * have three other jobs between them. `waiting` is the pool's total.
 */
export function queueRows(own: OwnWaitingJob[], waiting: number): QueueRow[] {
  const sorted = [...own].sort((a, b) => a.poolPosition - b.poolPosition);
  if (sorted.length === 0) return waiting > 0 ? [{ kind: 'others', count: waiting, where: 'only' }] : [];
  const rows: QueueRow[] = [];
  let next = 0;
  for (const job of sorted) {
    const gap = job.poolPosition - next;
    if (gap > 0) rows.push({ kind: 'others', count: gap, where: next === 0 ? 'ahead' : 'between' });
    rows.push({ kind: 'job', job });
    next = job.poolPosition + 1;
  }
  // Pool counts and team lists come from one snapshot; a count from an older one must not go negative.
  const behind = waiting - next;
  if (behind > 0) rows.push({ kind: 'others', count: behind, where: 'behind' });
  return rows;
}

export type OthersRow = Extract<QueueRow, { kind: 'others' }>;

export function othersText({ count, where }: OthersRow): string {
  const jobs = `${count} ${count === 1 ? 'job' : 'jobs'} from other teams`;
  return where === 'only' ? `${jobs} waiting` : where === 'ahead' ? `${jobs} ahead` : where === 'between' ? `${jobs} in between` : `${jobs} behind`;
}

function formatWait(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

/** Why a waiting job cannot start (the scheduler's BlockedReason), and what can be done about it. */
export function blockedText(reason: string, model: string): string {
  switch (reason) {
    case 'no-backend-for-model':
      return `Blocked: no backend this job’s tier can use serves ${model} any more. It starts if an admin adds one; or cancel it.`;
    case 'backends-down':
      return `Waiting: every backend that serves ${model} is down or cooling down; it starts when one is back.`;
    case 'unknown-tier':
      return 'Blocked: the tier this job was admitted under was deleted. Cancel it and submit it again.';
    default:
      return `Blocked: no backend can run this job right now (${reason}).`;
  }
}

/** "3 jobs ahead · starts in about 40 s": the same words on the job page and the queue view. */
export function placeText(place: { position: number; etaMs: number | null; blocked: string | null; model: string }): string {
  if (place.blocked) return blockedText(place.blocked, place.model);
  const ahead = place.position === 0 ? 'Next in line' : `${place.position} ${place.position === 1 ? 'job' : 'jobs'} ahead`;
  return place.etaMs === null ? `${ahead}.` : `${ahead} · starts in about ${formatWait(place.etaMs)}.`;
}

/** How far through its wait a job is: waited ÷ (waited + expected rest); null when unknown. */
export function waitProgress(job: { since: number; etaMs: number | null }, at: number): number | null {
  if (job.etaMs === null) return null;
  const waited = Math.max(0, at - job.since);
  const total = waited + job.etaMs;
  return total > 0 ? waited / total : 1;
}
