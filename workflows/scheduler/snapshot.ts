import type { Forecast } from './forecast';
import { busySlots, isBackendUp, pipelinedCount } from './state';
import type { BlockedReason, SchedulerState } from './types';

/**
 * The queue as the web shows it, built once per scheduler event so that each web process can
 * fetch one compact value and fan it out, instead of the scheduler messaging every waiting job.
 * Pools carry counts and backends only (anyone may see them); jobs are grouped by team, so a web
 * process hands each team its own part and nothing of the others'.
 */
export interface QueueBackendView {
  id: string;
  slots: number;
  /** Slots busy. */
  running: number;
  /** Pipelined leases: requests waiting in the backend's own queue for a slot. */
  queued: number;
  up: boolean;
  loadedModels: string[];
}

export interface PoolQueueView {
  pool: string;
  waiting: number;
  /** Leases holding a slot. */
  running: number;
  /** Pipelined leases, starting as soon as a slot of their backend frees. */
  starting: number;
  backends: QueueBackendView[];
}

export interface WaitingJobView {
  jobId: string;
  userId: string;
  model: string;
  /** The pool it is expected to start in (for a blocked job: its tier's first pool). */
  pool: string | null;
  /** Jobs that start before it, across all pools, as dispatch orders them (0 = next). */
  position: number;
  /** Jobs of the same pool that start before it: what a pool's view counts. */
  poolPosition: number;
  etaMs: number | null;
  blocked: BlockedReason | null;
  /** When it joined the queue (scheduler time). */
  since: number;
}

export interface RunningJobView {
  jobId: string;
  userId: string;
  model: string;
  backendId: string;
  pool: string;
  /** When it was granted its slot (scheduler time). */
  since: number;
  /** Pipelined: its request waits in the backend's queue and starts when a slot frees. */
  starting: boolean;
}

export interface TeamQueueView {
  waiting: WaitingJobView[];
  running: RunningJobView[];
}

export interface QueueSnapshot {
  /** Grows with every scheduler event; equal versions are equal snapshots. */
  version: number;
  /** The scheduler's clock when this state was planned. */
  at: number;
  pools: PoolQueueView[];
  teams: Record<string, TeamQueueView>;
}

export function queueSnapshot(state: SchedulerState, planned: Forecast, version: number): QueueSnapshot {
  const pools = new Map<string, PoolQueueView>();
  const pool = (name: string) => {
    let view = pools.get(name);
    if (!view) pools.set(name, (view = { pool: name, waiting: 0, running: 0, starting: 0, backends: [] }));
    return view;
  };
  const teams: Record<string, TeamQueueView> = {};
  const team = (id: string) => (teams[id] ??= { waiting: [], running: [] });

  for (const backend of Object.values(state.backends)) {
    pool(backend.pool).backends.push({
      id: backend.id,
      slots: backend.slots,
      running: busySlots(backend),
      queued: pipelinedCount(backend),
      up: isBackendUp(backend, planned.at),
      loadedModels: [...backend.loadedModels],
    });
  }
  for (const lease of Object.values(state.leases)) {
    const starting = lease.startedAt === null;
    if (starting) pool(lease.pool).starting++;
    else pool(lease.pool).running++;
    team(lease.teamId).running.push({
      jobId: lease.jobId,
      userId: lease.userId,
      model: lease.model,
      backendId: lease.backendId,
      pool: lease.pool,
      since: lease.grantedAt,
      starting,
    });
  }
  const enqueuedAt = new Map(state.waiting.map((job) => [job.jobId, job.enqueuedAt]));
  for (const entry of planned.order) {
    const name = entry.pool ?? state.tiers[entry.tier]?.poolPreference[0] ?? null;
    const poolPosition = name === null ? entry.position : pool(name).waiting++;
    team(entry.teamId).waiting.push({
      jobId: entry.jobId,
      userId: entry.userId,
      model: entry.model,
      pool: name,
      position: entry.position,
      poolPosition,
      etaMs: entry.etaMs,
      blocked: entry.blocked,
      since: enqueuedAt.get(entry.jobId) ?? planned.at,
    });
  }
  for (const view of pools.values()) view.backends.sort((a, b) => a.id.localeCompare(b.id));
  for (const view of Object.values(teams)) view.running.sort((a, b) => a.since - b.since || a.jobId.localeCompare(b.jobId));
  return {
    version,
    at: planned.at,
    pools: [...pools.values()].sort((a, b) => a.pool.localeCompare(b.pool)),
    teams,
  };
}
