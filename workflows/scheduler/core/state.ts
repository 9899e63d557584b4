import type {
  BackendState,
  EnqueueRequest,
  EnqueueResult,
  Lease,
  SchedulerConfig,
  SchedulerState,
  TierPolicy,
  WaitingJob,
} from './types';

/**
 * State transitions other than dispatch. Convention for the whole module: functions that change
 * the scheduler mutate the `SchedulerState` they are given, in place, and return what happened;
 * read-only functions (positions, snapshot, estimates) never mutate. The state belongs to one
 * workflow and is large (thousands of waiting jobs), so copying it on every event would cost more
 * than the decisions themselves; tests that need a before/after use `structuredClone`.
 */

export const DEFAULT_CONFIG: SchedulerConfig = {
  aging: { stepMs: 30_000, max: 10 },
  usageHalfLifeGrants: 200,
  modelCost: {},
  defaultServiceMs: 30_000,
  serviceAlpha: 0.2,
  breaker: { failureThreshold: 3, windowMs: 60_000, cooldownMs: 30_000, maxCooldownMs: 10 * 60_000 },
  rateWindowMs: 60_000,
};

export function createSchedulerState(options: {
  tiers: TierPolicy[];
  backends: BackendInit[];
  config?: Partial<SchedulerConfig>;
  now: number;
}): SchedulerState {
  const state: SchedulerState = {
    config: { ...DEFAULT_CONFIG, ...options.config },
    tiers: {},
    backends: {},
    waiting: [],
    leases: {},
    teamUsage: {},
    createdAt: options.now,
    serviceStats: {},
    nextSeq: 1,
  };
  setTiers(state, options.tiers);
  for (const backend of options.backends) upsertBackend(state, backend);
  return state;
}

export function setTiers(state: SchedulerState, tiers: TierPolicy[]): void {
  const next: Record<string, TierPolicy> = {};
  for (const tier of tiers) next[tier.name] = tier;
  // A deleted tier's jobs already queued or running keep the policy they were admitted with.
  for (const job of [...state.waiting, ...Object.values(state.leases)]) {
    const kept = state.tiers[job.tier];
    if (!next[job.tier] && kept) next[job.tier] = kept;
  }
  state.tiers = next;
}

/** What an admin or the backend registry knows about a backend; runtime fields are kept. */
export type BackendInit = Pick<BackendState, 'id' | 'kind' | 'pool' | 'slots' | 'models'> &
  Partial<Pick<BackendState, 'loadedModels' | 'maxLoadedModels' | 'memoryBudgetMb' | 'healthy' | 'rpmLimit' | 'prefetch'>>;

export function upsertBackend(state: SchedulerState, init: BackendInit): BackendState {
  const previous = state.backends[init.id];
  const backend: BackendState = {
    id: init.id,
    kind: init.kind,
    pool: init.pool,
    slots: init.slots,
    // Absent: the backend's current setting, else none.
    prefetch: init.kind === 'ollama' ? (init.prefetch ?? previous?.prefetch ?? 0) : 0,
    models: [...init.models],
    loadedModels: init.loadedModels ? [...init.loadedModels] : (previous?.loadedModels ?? []),
    maxLoadedModels: init.maxLoadedModels ?? previous?.maxLoadedModels ?? 1,
    memoryBudgetMb: init.memoryBudgetMb ?? previous?.memoryBudgetMb ?? 0,
    // What the resource loop read outlives a config edit; the next read refreshes it.
    peakLoadedMb: previous?.peakLoadedMb ?? 0,
    modelSizesMb: previous?.modelSizesMb ?? {},
    healthy: init.healthy ?? previous?.healthy ?? true,
    cooldownUntil: previous?.cooldownUntil ?? 0,
    cooldownLevel: previous?.cooldownLevel ?? 0,
    recentFailures: previous?.recentFailures ?? [],
    // Leases outlive a config edit: a backend shrunk below its running count just gets no grants,
    // and one drained or disabled and back again counts the leases it kept meanwhile.
    running: previous?.running ?? Object.values(state.leases).filter((lease) => lease.backendId === init.id).length,
    rpmLimit: init.rpmLimit ?? previous?.rpmLimit ?? 0,
    recentGrants: previous?.recentGrants ?? [],
  };
  state.backends[init.id] = backend;
  // More slots: pipelined requests waiting in the backend's queue start at once.
  startPipelined(state, init.id, null);
  return backend;
}

/** Leases holding a slot of the backend (the others wait in its queue). */
export function busySlots(backend: BackendState): number {
  return Math.min(backend.running, backend.slots);
}

/** Leases whose requests wait in the backend's queue for a slot. */
export function pipelinedCount(backend: BackendState): number {
  return Math.max(0, backend.running - backend.slots);
}

/**
 * Marks the oldest pipelined leases of a backend started while it has slots for them: the
 * backend serves its queue in arrival order, and requests arrive in grant order. `now` null: a
 * config edit, which has no clock here; the grant time stands in (service statistics only).
 */
function startPipelined(state: SchedulerState, backendId: string, now: number | null): void {
  const backend = state.backends[backendId];
  if (!backend) return;
  const held = Object.values(state.leases).filter((lease) => lease.backendId === backendId);
  let free = backend.slots - held.filter((lease) => lease.startedAt !== null).length;
  if (free <= 0) return;
  const queued = held.filter((lease) => lease.startedAt === null).sort((a, b) => a.grantedAt - b.grantedAt);
  for (const lease of queued) {
    if (free-- <= 0) break;
    lease.startedAt = now ?? lease.grantedAt;
  }
}

/** Running leases stay until released; the backend just stops getting grants. */
export function removeBackend(state: SchedulerState, backendId: string): void {
  const { [backendId]: _removed, ...rest } = state.backends;
  state.backends = rest;
}

/**
 * The waiting jobs' ids and each user's count of them, for a caller that handles many requests
 * against a long list (the workflow: a signal of 200 at 100,000 waiting): without it every request
 * scans the whole list, twice. Built once per run; `enqueue`, `removeWaiting` and `dispatch` keep it
 * in step when given it.
 */
export interface WaitingIndex {
  ids: Set<string>;
  perUser: Map<string, number>;
}

/** `job` left the waiting list. */
export function unindex(index: WaitingIndex, job: WaitingJob): void {
  index.ids.delete(job.jobId);
  const left = index.perUser.get(job.userId)! - 1;
  if (left > 0) index.perUser.set(job.userId, left);
  else index.perUser.delete(job.userId);
}

export function indexWaiting(state: SchedulerState): WaitingIndex {
  const index: WaitingIndex = { ids: new Set(), perUser: new Map() };
  for (const job of state.waiting) {
    index.ids.add(job.jobId);
    index.perUser.set(job.userId, (index.perUser.get(job.userId) ?? 0) + 1);
  }
  return index;
}

export function enqueue(state: SchedulerState, request: EnqueueRequest, now: number, index?: WaitingIndex): EnqueueResult {
  const existing = index && !index.ids.has(request.jobId) ? undefined : state.waiting.find((job) => job.jobId === request.jobId);
  if (existing) return { ok: true, job: existing, duplicate: true };
  if (state.leases[request.jobId]) return { ok: false, reason: 'already-running' };
  const tier = state.tiers[request.tier];
  if (!tier) return { ok: false, reason: 'unknown-tier' };
  if (tier.allowedModels.length > 0 && !tier.allowedModels.includes(request.model)) {
    return { ok: false, reason: 'model-not-allowed' };
  }
  if (tier.maxQueuedPerUser > 0) {
    let queued = index?.perUser.get(request.userId) ?? 0;
    if (!index) for (const job of state.waiting) if (job.userId === request.userId) queued++;
    if (queued >= tier.maxQueuedPerUser) return { ok: false, reason: 'user-queue-full' };
  }
  const job: WaitingJob = {
    jobId: request.jobId,
    teamId: request.teamId,
    userId: request.userId,
    tier: request.tier,
    model: request.model,
    priority: request.priority ?? 0,
    boost: request.boost ?? 0,
    enqueuedAt: now,
    seq: state.nextSeq++,
    fallbackSince: null,
    avoid: request.avoid ?? [],
    batchable: request.batchable ?? false,
  };
  state.waiting.push(job);
  if (index) {
    index.ids.add(job.jobId);
    index.perUser.set(job.userId, (index.perUser.get(job.userId) ?? 0) + 1);
  }
  return { ok: true, job, duplicate: false };
}

/** Removes a waiting job (cancelled, timed out). A running job gives its slot back via `release`. */
export function removeWaiting(state: SchedulerState, jobId: string, index?: WaitingIndex): WaitingJob | null {
  if (index && !index.ids.has(jobId)) return null;
  const at = state.waiting.findIndex((job) => job.jobId === jobId);
  if (at < 0) return null;
  const [job] = state.waiting.splice(at, 1);
  if (job && index) unindex(index, job);
  return job ?? null;
}

export function setBoost(state: SchedulerState, jobId: string, boost: number): boolean {
  const job = state.waiting.find((candidate) => candidate.jobId === jobId);
  if (!job) return false;
  job.boost = boost;
  return true;
}

export interface ReleaseOutcome {
  /** Measured service time; defaults to now − grantedAt. Omit for cancelled/failed jobs. */
  serviceMs?: number;
  /** false: the backend failed the job (feeds the circuit breaker). Default true. */
  ok?: boolean;
  /** Record the service time in the statistics (skip for cancelled or truncated runs). */
  recordService?: boolean;
}

/** Idempotent: releasing an unknown or already released lease returns null and changes nothing. */
export function release(state: SchedulerState, leaseId: string, now: number, outcome: ReleaseOutcome = {}): Lease | null {
  const lease = state.leases[leaseId];
  if (!lease) return null;
  delete state.leases[leaseId];
  const backend = state.backends[lease.backendId];
  if (backend) backend.running = Math.max(0, backend.running - 1);
  if (lease.startedAt !== null) startPipelined(state, lease.backendId, now);
  if (outcome.ok === false) {
    recordBackendFailure(state, lease.backendId, now);
  } else {
    if (backend) recordBackendSuccess(state, lease.backendId);
    if (outcome.recordService !== false && lease.startedAt !== null) {
      // The job measures its generate call, which for a pipelined lease includes the wait in the
      // backend's queue: its service is counted from the release that let it start instead.
      const measured = lease.startedAt === lease.grantedAt ? outcome.serviceMs : undefined;
      recordServiceTime(state, lease.model, lease.backendId, measured ?? Math.max(0, now - lease.startedAt));
    }
  }
  return lease;
}

export function markBackendHealth(state: SchedulerState, backendId: string, healthy: boolean): void {
  const backend = state.backends[backendId];
  if (backend) backend.healthy = healthy;
}

/** Circuit breaker: `failureThreshold` failures inside `windowMs` → cooldown, doubling up to the cap. */
export function recordBackendFailure(state: SchedulerState, backendId: string, now: number): void {
  const backend = state.backends[backendId];
  if (!backend) return;
  const { failureThreshold, windowMs, cooldownMs, maxCooldownMs } = state.config.breaker;
  backend.recentFailures = backend.recentFailures.filter((at) => now - at < windowMs);
  backend.recentFailures.push(now);
  if (backend.recentFailures.length >= failureThreshold) {
    backend.cooldownUntil = now + Math.min(maxCooldownMs, cooldownMs * 2 ** backend.cooldownLevel);
    backend.cooldownLevel++;
    backend.recentFailures = [];
  }
}

export function recordBackendSuccess(state: SchedulerState, backendId: string): void {
  const backend = state.backends[backendId];
  if (!backend) return;
  backend.recentFailures = [];
  backend.cooldownLevel = 0;
}

export function isBackendUp(backend: BackendState, at: number): boolean {
  return backend.healthy && at >= backend.cooldownUntil;
}

const statsKey = (backendId: string, model: string) => `${backendId}\u0000${model}`;

export function recordServiceTime(state: SchedulerState, model: string, backendId: string, serviceMs: number): void {
  const alpha = state.config.serviceAlpha;
  for (const key of [model, statsKey(backendId, model)]) {
    const sample = state.serviceStats[key];
    state.serviceStats[key] = sample
      ? { meanMs: sample.meanMs + alpha * (serviceMs - sample.meanMs), samples: sample.samples + 1 }
      : { meanMs: serviceMs, samples: 1 };
  }
}

/** Recent mean on this backend, else for the model anywhere, else the configured default. */
export function expectedServiceMs(state: SchedulerState, model: string, backendId: string | null): number {
  const specific = backendId === null ? undefined : state.serviceStats[statsKey(backendId, model)];
  return specific?.meanMs ?? state.serviceStats[model]?.meanMs ?? state.config.defaultServiceMs;
}

/** Multiplier applied to every team's usage per grant. */
export function usageDecayPerGrant(state: SchedulerState): number {
  return 2 ** (-1 / Math.max(1, state.config.usageHalfLifeGrants));
}

/** Tier base + job priority + admin boost: the priority a job has before it waits. */
export function nativePriority(job: WaitingJob, tier: TierPolicy): number {
  return tier.basePriority + job.priority + job.boost;
}

/**
 * Native priority + aging (+1 per `stepMs` waited, at most `max`), and never above `ceiling` —
 * the highest native priority among the jobs it competes with (unless it starts above it).
 *
 * The ceiling is what keeps aging from undoing fair share: under sustained contention the team
 * below its share waits longer, so uncapped aging would lift its jobs to a higher level and turn
 * weighted shares into FIFO. Capped at the top native level, aging still lifts a starved job level
 * with the highest-priority work (where fair share and FIFO then favour it) but never past it, and
 * among jobs of equal native priority it changes nothing.
 */
export function effectivePriority(
  job: WaitingJob,
  tier: TierPolicy,
  now: number,
  aging: SchedulerState['config']['aging'],
  ceiling = Number.POSITIVE_INFINITY,
): number {
  return agedPriority(nativePriority(job, tier), job.enqueuedAt, now, aging, ceiling);
}

/** `effectivePriority` from a native priority already computed (the planner computes it once per job). */
export function agedPriority(native: number, enqueuedAt: number, now: number, aging: SchedulerState['config']['aging'], ceiling: number): number {
  const waited = Math.max(0, now - enqueuedAt);
  const aged = aging.stepMs > 0 ? Math.min(aging.max, Math.floor(waited / aging.stepMs)) : 0;
  return Math.min(native + aged, Math.max(native, ceiling));
}
