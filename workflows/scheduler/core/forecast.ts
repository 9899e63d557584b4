import { Planner, type PlanLease } from './planner';
import { expectedServiceMs, isBackendUp } from './state';
import type { BlockedReason, JobPosition, SchedulerState, WaitingJob } from './types';

/**
 * Positions and ETAs. Read-only: never mutates the state.
 *
 * Position, precisely: run the dispatch selection (`Planner`, the same code `dispatch` uses) on a
 * copy of the capacity, starting at `now`, with no arrivals, no cancellations and no health
 * changes; every running and simulated lease ends at grantedAt + the recent mean service time of
 * its model on its backend (now, if already overdue); cooldowns end and cloud rate windows reopen
 * when they would. A job's position is the number of waiting jobs that start before it in that
 * run, and its ETA is its simulated start minus `now`. Effective priorities are evaluated at `now`
 * for the whole run (see planner.ts). With one slot the run is exactly the order of grants that
 * dispatch/release will produce, whatever the service times turn out to be, unless an aging step
 * reorders jobs meanwhile; with several slots it can also differ where leases end in another order
 * than expected (per-user limits and minimum shares depend on which lease ends first).
 *
 * Pipelined leases (granted beyond a backend's slots, see planner.ts) start when the backend's
 * queue reaches them: each backend's slots are simulated as a FIFO, so a job pipelined in the run
 * gets the start (and ETA) of the slot it will take, not of its grant. Its position still counts
 * the grant, which fixes its place in that backend's queue.
 *
 * Jobs no backend can ever serve come last, in arrival order, with etaMs null and a reason.
 */
export interface Forecast {
  at: number;
  order: JobPosition[];
}

export function forecast(state: SchedulerState, now: number): Forecast {
  const planner = new Planner(state, now, state.waiting);
  const ends = new LeaseHeap();
  // Per backend, when each of its slots frees (ascending): running leases first, then the
  // pipelined ones in the order the backend's queue serves them.
  const slotFree: number[][] = planner.backends.map(() => []);
  const current = planner.currentLeases();
  const queued: typeof current = [];
  for (const entry of current) {
    const { lease, plan } = entry;
    const serviceMs = expectedServiceMs(state, lease.model, lease.backendId);
    if (lease.startedAt === null && plan.backend >= 0) {
      queued.push(entry);
      continue;
    }
    const end = Math.max(now, (lease.startedAt ?? lease.grantedAt) + serviceMs);
    slotFree[plan.backend]?.push(end);
    ends.push(end, plan);
  }
  planner.backends.forEach((backend, i) => {
    const free = slotFree[i]!;
    while (free.length < backend.slots) free.push(now);
    free.sort((a, b) => a - b);
    // Slots cut below the running leases: the queue moves once enough of them have ended.
    free.splice(0, free.length - backend.slots);
  });
  queued.sort((a, b) => a.lease.grantedAt - b.lease.grantedAt);
  for (const { lease, plan } of queued) {
    const serviceMs = expectedServiceMs(state, lease.model, lease.backendId);
    ends.push(takeSlot(slotFree[plan.backend]!, now, serviceMs) + serviceMs, plan);
  }
  const order: JobPosition[] = [];
  let at = now;
  while (planner.remaining > 0) {
    for (let pick = planner.next(at); pick; pick = planner.next(at)) {
      planner.grant(pick, at);
      const backend = planner.backends[pick.backend]!;
      const { job, level } = pick.pj;
      const serviceMs = planner.expectedServiceMs(pick);
      const start = takeSlot(slotFree[pick.backend]!, at, serviceMs);
      order.push(position(job, order.length, start - now, backend.id, backend.pool, level));
      ends.push(start + serviceMs, { backend: pick.backend, user: pick.pj.user, team: pick.pj.team, local: backend.kind === 'ollama' });
    }
    if (planner.remaining === 0) break;
    const nextAt = Math.min(ends.peekTime(), planner.nextCapacityChange(at));
    if (nextAt === Number.POSITIVE_INFINITY) break;
    at = nextAt;
    while (ends.size > 0 && ends.peekTime() <= at) planner.release(ends.pop());
  }
  if (planner.remaining > 0 || planner.jobs.length < state.waiting.length) {
    const planned = new Set(planner.jobs.map((pj) => pj.job.jobId));
    for (const pj of planner.jobs) {
      if (!pj.done) order.push(position(pj.job, order.length, null, null, null, pj.level, planner.blockedReason(pj)));
    }
    for (const job of state.waiting) {
      if (!planned.has(job.jobId)) order.push(position(job, order.length, null, null, null, 0, 'unknown-tier'));
    }
  }
  return { at: now, order };
}

/**
 * A backend's slots as the times they free, ascending: the next request (arriving at `at`) takes
 * the earliest, no sooner than `at`, and holds it for `serviceMs`; returns when it starts.
 */
function takeSlot(free: number[], at: number, serviceMs: number): number {
  if (free.length === 0) return at;
  const start = Math.max(at, free.shift()!);
  const end = start + serviceMs;
  let i = free.length;
  while (i > 0 && free[i - 1]! > end) i--;
  free.splice(i, 0, end);
  return start;
}

function position(
  job: WaitingJob,
  index: number,
  etaMs: number | null,
  backendId: string | null,
  pool: string | null,
  effectivePriority: number,
  blocked: BlockedReason | null = null,
): JobPosition {
  return {
    jobId: job.jobId,
    teamId: job.teamId,
    userId: job.userId,
    tier: job.tier,
    model: job.model,
    position: index,
    etaMs,
    backendId,
    pool,
    effectivePriority,
    blocked,
  };
}

export function positions(state: SchedulerState, now: number): Record<string, JobPosition> {
  const byJob: Record<string, JobPosition> = {};
  for (const entry of forecast(state, now).order) byJob[entry.jobId] = entry;
  return byJob;
}

/** The waiting jobs in the order they would start (see `forecast`). */
export function orderWaiting(state: SchedulerState, now: number): WaitingJob[] {
  const byId = new Map(state.waiting.map((job) => [job.jobId, job]));
  return forecast(state, now).order.map((entry) => byId.get(entry.jobId)!);
}

/** Expected time until the job starts; null if it is not waiting or cannot be served. */
export function estimateWait(state: SchedulerState, jobId: string, now: number): number | null {
  return forecast(state, now).order.find((entry) => entry.jobId === jobId)?.etaMs ?? null;
}

/**
 * What a pool's subscribers need, in O(pools + teams + waiting) numbers rather than one message per
 * job: a client finds its job id in `jobs` and reads the same index of `positions` and `etaMs`.
 * Positions are global (across pools), as dispatch is.
 */
export interface PoolSnapshot {
  pool: string;
  at: number;
  slots: number;
  upSlots: number;
  running: number;
  waiting: number;
  teams: Record<string, { waiting: number; running: number }>;
  tiers: Record<string, { waiting: number; running: number }>;
  jobs: string[];
  positions: number[];
  etaMs: Array<number | null>;
}

/**
 * Snapshots per pool. A waiting job belongs to the pool the forecast placed it in, or, when
 * blocked, to its tier's first pool.
 */
export function snapshots(state: SchedulerState, planned: Forecast): Record<string, PoolSnapshot> {
  const result: Record<string, PoolSnapshot> = {};
  const pool = (name: string) =>
    (result[name] ??= {
      pool: name,
      at: planned.at,
      slots: 0,
      upSlots: 0,
      running: 0,
      waiting: 0,
      teams: {},
      tiers: {},
      jobs: [],
      positions: [],
      etaMs: [],
    });
  for (const backend of Object.values(state.backends)) {
    const snapshot = pool(backend.pool);
    snapshot.slots += backend.slots;
    if (isBackendUp(backend, planned.at)) snapshot.upSlots += backend.slots;
  }
  for (const lease of Object.values(state.leases)) {
    const snapshot = pool(lease.pool);
    snapshot.running++;
    (snapshot.teams[lease.teamId] ??= { waiting: 0, running: 0 }).running++;
    (snapshot.tiers[lease.tier] ??= { waiting: 0, running: 0 }).running++;
  }
  for (const entry of planned.order) {
    const snapshot = pool(entry.pool ?? state.tiers[entry.tier]?.poolPreference[0] ?? 'unassigned');
    snapshot.waiting++;
    (snapshot.teams[entry.teamId] ??= { waiting: 0, running: 0 }).waiting++;
    (snapshot.tiers[entry.tier] ??= { waiting: 0, running: 0 }).waiting++;
    snapshot.jobs.push(entry.jobId);
    snapshot.positions.push(entry.position);
    snapshot.etaMs.push(entry.etaMs);
  }
  return result;
}

/** Binary min-heap of lease end times. */
class LeaseHeap {
  private readonly times: number[] = [];
  private readonly leases: PlanLease[] = [];

  get size(): number {
    return this.times.length;
  }

  peekTime(): number {
    return this.times.length > 0 ? this.times[0]! : Number.POSITIVE_INFINITY;
  }

  push(time: number, lease: PlanLease): void {
    const times = this.times;
    const leases = this.leases;
    let i = times.length;
    times.push(time);
    leases.push(lease);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= time) break;
      times[i] = times[parent]!;
      leases[i] = leases[parent]!;
      i = parent;
    }
    times[i] = time;
    leases[i] = lease;
  }

  pop(): PlanLease {
    const times = this.times;
    const leases = this.leases;
    const top = leases[0]!;
    const lastTime = times.pop()!;
    const lastLease = leases.pop()!;
    const n = times.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && times[right]! < times[left]! ? right : left;
        if (times[child]! >= lastTime) break;
        times[i] = times[child]!;
        leases[i] = leases[child]!;
        i = child;
      }
      times[i] = lastTime;
      leases[i] = lastLease;
    }
    return top;
  }
}
