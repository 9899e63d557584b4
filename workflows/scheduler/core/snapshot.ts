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

/**
 * Not its user: the web reads that with the rest of the job's row (once per job, not per
 * snapshot), which spares the wire one id per waiting job.
 */
export interface WaitingJobView {
  jobId: string;
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

/**
 * A team's waiting jobs on the wire, in dispatch order, as columns rather than one object per
 * job: with thousands waiting the repeated keys, ids and absolute times were most of the
 * snapshot's bytes, and every byte is paid for in the workflow's JSON encoding, Temporal's relay
 * and the web's parsing. `decodeTeamQueue` turns it back into `WaitingJobView`s.
 */
export interface WaitingColumns {
  jobId: string[];
  /** Indexes into the team's `models` and `pools`. */
  model: number[];
  pool: number[];
  /** Position minus the previous job's (the first job's: its position); dispatch order makes them grow. */
  positionStep: number[];
  /** position − poolPosition: jobs of other pools that start before it (all 0 with one pool). */
  otherPoolsAhead: number[];
  /** Its ETA in ms or, for a blocked job (which has none), why it is blocked. */
  eta: Array<number | BlockedReason | null>;
  /** at − since: how long it has waited at the snapshot's time. */
  waitedMs: number[];
}

export interface TeamQueueColumns {
  models: string[];
  pools: Array<string | null>;
  waiting: WaitingColumns;
  running: RunningJobView[];
}

/** Changes whenever the wire form does, so a web process and a worker of different versions notice. */
export const SNAPSHOT_FORMAT = 2;

export interface QueueSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  /** Grows with every scheduler event; equal versions are equal snapshots. */
  version: number;
  /** The scheduler's clock when this state was planned. */
  at: number;
  pools: PoolQueueView[];
  /** Only teams with jobs; a filtered snapshot (`snapshotForTeams`) only the teams asked for. */
  teams: Record<string, TeamQueueColumns>;
}

/** A dictionary column: values once in `values`, rows as indexes into it. */
class Dictionary<T> {
  readonly values: T[] = [];
  private readonly index = new Map<T, number>();

  of(value: T): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.values.length;
      this.values.push(value);
      this.index.set(value, i);
    }
    return i;
  }
}

class TeamColumns {
  readonly models = new Dictionary<string>();
  readonly pools = new Dictionary<string | null>();
  readonly waiting: WaitingColumns = { jobId: [], model: [], pool: [], positionStep: [], otherPoolsAhead: [], eta: [], waitedMs: [] };
  readonly running: RunningJobView[] = [];
  lastPosition = 0;

  toWire(): TeamQueueColumns {
    return { models: this.models.values, pools: this.pools.values, waiting: this.waiting, running: this.running };
  }
}

export function queueSnapshot(state: SchedulerState, planned: Forecast, version: number): QueueSnapshot {
  const pools = new Map<string, PoolQueueView>();
  const pool = (name: string) => {
    let view = pools.get(name);
    if (!view) pools.set(name, (view = { pool: name, waiting: 0, running: 0, starting: 0, backends: [] }));
    return view;
  };
  const teams = new Map<string, TeamColumns>();
  const team = (id: string) => {
    let columns = teams.get(id);
    if (!columns) teams.set(id, (columns = new TeamColumns()));
    return columns;
  };

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
    const columns = team(entry.teamId);
    const waiting = columns.waiting;
    waiting.jobId.push(entry.jobId);
    waiting.model.push(columns.models.of(entry.model));
    waiting.pool.push(columns.pools.of(name));
    waiting.positionStep.push(entry.position - columns.lastPosition);
    columns.lastPosition = entry.position;
    waiting.otherPoolsAhead.push(entry.position - poolPosition);
    waiting.eta.push(entry.blocked ?? entry.etaMs);
    waiting.waitedMs.push(planned.at - (enqueuedAt.get(entry.jobId) ?? planned.at));
  }
  for (const view of pools.values()) view.backends.sort((a, b) => a.id.localeCompare(b.id));
  for (const columns of teams.values()) columns.running.sort((a, b) => a.since - b.since || a.jobId.localeCompare(b.jobId));
  return {
    format: SNAPSHOT_FORMAT,
    version,
    at: planned.at,
    pools: [...pools.values()].sort((a, b) => a.pool.localeCompare(b.pool)),
    // fromEntries defines own properties: a team id like `__proto__` stays an ordinary key.
    teams: Object.fromEntries([...teams].map(([id, columns]) => [id, columns.toWire()])),
  };
}

/** A team's jobs as the web shows them; no jobs when the snapshot has no part for the team. */
export function decodeTeamQueue(snapshot: QueueSnapshot, teamId: string): TeamQueueView {
  const team = Object.hasOwn(snapshot.teams, teamId) ? snapshot.teams[teamId] : undefined;
  if (!team) return { waiting: [], running: [] };
  const { jobId, model, pool, positionStep, otherPoolsAhead, eta, waitedMs } = team.waiting;
  const waiting: WaitingJobView[] = new Array(jobId.length);
  let position = 0;
  for (let i = 0; i < jobId.length; i++) {
    position += positionStep[i]!;
    const etaOrReason = eta[i] ?? null;
    const blocked = typeof etaOrReason === 'string' ? etaOrReason : null;
    waiting[i] = {
      jobId: jobId[i]!,
      model: team.models[model[i]!]!,
      pool: team.pools[pool[i]!]!,
      position,
      poolPosition: position - otherPoolsAhead[i]!,
      etaMs: blocked ? null : (etaOrReason as number | null),
      blocked,
      since: snapshot.at - waitedMs[i]!,
    };
  }
  return { waiting, running: team.running };
}

/** The job ids a team's part names, waiting and running, without decoding the rest. */
export function teamJobIds(snapshot: QueueSnapshot, teamId: string): string[] {
  const team = Object.hasOwn(snapshot.teams, teamId) ? snapshot.teams[teamId] : undefined;
  return team ? [...team.waiting.jobId, ...team.running.map((job) => job.jobId)] : [];
}

/**
 * The pools and the parts of the given teams only: a caller is sent no other team's jobs, and a
 * web process watching a few teams does not pay for all of them.
 */
export function snapshotForTeams(snapshot: QueueSnapshot, teamIds: readonly string[]): QueueSnapshot {
  const teams = teamIds.filter((id) => Object.hasOwn(snapshot.teams, id)).map((id) => [id, snapshot.teams[id]!] as const);
  return { ...snapshot, teams: Object.fromEntries(teams) };
}

/** The snapshot query's team list, checked: it arrives from another process as plain JSON. */
export function requireTeamIds(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) {
    throw new TypeError('snapshot query: the second argument must be the list of team ids to include');
  }
  return value;
}
