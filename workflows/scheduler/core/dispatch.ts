import { forecast } from './forecast';
import { Planner } from './planner';
import { loadModel, residencyOf } from './residency';
import { unindex, usageDecayPerGrant, type WaitingIndex } from './state';
import type { Grant, SchedulerState } from './types';

export interface DispatchResult {
  grants: Grant[];
  /** Jobs newly judged past their tier's cloud threshold (sticky, see `WaitingJob.fallbackSince`). */
  fallbackMarked: string[];
}

/**
 * Grants every eligible (job, slot) pair, in the planner's order, until none is left: no slot idles
 * while an eligible job waits. Call it after every event that can create capacity or eligibility
 * (arrival, release, health change, boost, tier edit, a timer from `nextWakeAt`). Mutates `state`
 * in place: the granted jobs leave `waiting` and become `leases`, backends and team usage are
 * charged. The caller hands each grant to its job; a grant that cannot be delivered (job gone) must
 * be released like any other lease.
 *
 * Cloud fallback: a job of a tier with `cloudFallback` may be placed on a cloud backend outside its
 * pools when no backend of its pools that serves the model is up, or once its expected wait
 * (waited so far + forecast time to start) exceeds `cloudFallbackAfterSec`. Its own pools are
 * still preferred when they have a free slot.
 *
 * Pipelining: when no waiting job can take a free slot, ollama backends are granted up to
 * `prefetch` leases beyond their slots, in the same order, for models they have loaded or room to
 * load (see planner.ts). The price: a job arriving later with a higher priority cannot overtake those.
 *
 * `index`, when given, is kept in step: the granted jobs leave it as they leave `waiting`.
 */
export function dispatch(state: SchedulerState, now: number, index?: WaitingIndex): DispatchResult {
  pruneRateWindows(state, now);
  // The common event while everything is busy (an arrival): nothing to grant, skip the O(N) plan.
  if (state.waiting.length === 0 || !Object.values(state.backends).some((backend) => hasFreeSlot(backend, now) || hasPipelineRoom(backend, now))) {
    return { grants: [], fallbackMarked: [] };
  }
  const fallbackMarked = markFallback(state, now);

  const planner = new Planner(state, now, state.waiting);
  const grants: Grant[] = [];
  for (let pick = planner.next(now); pick; pick = planner.next(now)) {
    planner.grant(pick, now);
    const job = pick.pj.job;
    if (index) unindex(index, job);
    const backend = state.backends[planner.backends[pick.backend]!.id]!;
    const route = state.tiers[job.tier]!.poolPreference.includes(backend.pool) ? 'preferred' : 'fallback';
    backend.running++;
    if (backend.kind === 'ollama') loadModel(residencyOf(backend), job.model);
    if (backend.rpmLimit > 0) backend.recentGrants.push(now);
    state.leases[job.jobId] = {
      leaseId: job.jobId,
      jobId: job.jobId,
      backendId: backend.id,
      pool: backend.pool,
      kind: backend.kind,
      model: job.model,
      teamId: job.teamId,
      userId: job.userId,
      tier: job.tier,
      route,
      enqueuedAt: job.enqueuedAt,
      grantedAt: now,
      startedAt: pick.pipelined ? null : now,
    };
    grants.push({
      jobId: job.jobId,
      leaseId: job.jobId,
      backendId: backend.id,
      pool: backend.pool,
      kind: backend.kind,
      model: job.model,
      route,
      waitedMs: now - job.enqueuedAt,
      grantedAt: now,
    });
  }
  if (grants.length > 0) {
    const leased = new Set(Object.keys(state.leases));
    state.waiting = state.waiting.filter((job) => !leased.has(job.jobId));
    // Same numbers as the planner's (not recomputed), so forecasts replay them bit for bit.
    const factor = usageDecayPerGrant(state) ** planner.grants;
    const usage: Record<string, number> = {};
    for (const [team, value] of Object.entries(state.teamUsage)) if (value * factor > 1e-9) usage[team] = value * factor;
    for (const [team, value] of planner.teamUsage()) {
      if (value > 0) usage[team] = value;
      else delete usage[team];
    }
    state.teamUsage = usage;
  }
  return { grants, fallbackMarked };
}

/** Per model, when its oldest waiting batchable job (of a tier that batches) arrived: its batch's start. */
export function oldestBatchable(state: SchedulerState): Map<string, number> {
  const oldest = new Map<string, number>();
  for (const job of state.waiting) {
    if (job.batchable && state.tiers[job.tier]?.batchEnabled && !oldest.has(job.model)) oldest.set(job.model, job.enqueuedAt);
  }
  return oldest;
}

function hasFreeSlot(backend: SchedulerState['backends'][string], now: number): boolean {
  return (
    backend.healthy &&
    now >= backend.cooldownUntil &&
    backend.running < backend.slots &&
    (backend.rpmLimit === 0 || backend.recentGrants.length < backend.rpmLimit)
  );
}

function hasPipelineRoom(backend: SchedulerState['backends'][string], now: number): boolean {
  return backend.healthy && now >= backend.cooldownUntil && backend.running < backend.slots + backend.prefetch;
}

function pruneRateWindows(state: SchedulerState, now: number): void {
  const windowStart = now - state.config.rateWindowMs;
  for (const backend of Object.values(state.backends)) {
    if (backend.recentGrants.length > 0 && backend.recentGrants[0]! <= windowStart) {
      backend.recentGrants = backend.recentGrants.filter((at) => at > windowStart);
    }
  }
}

/** Flags jobs whose expected total wait passed their tier's threshold; forecasts only if it matters. */
function markFallback(state: SchedulerState, now: number): string[] {
  // Backends before jobs: this runs on every dispatch, and there are few backends and many jobs.
  const cloudFree = Object.values(state.backends).some((backend) => backend.kind === 'openai' && hasFreeSlot(backend, now));
  if (!cloudFree) return [];
  const candidates = state.waiting.filter((job) => job.fallbackSince === null && state.tiers[job.tier]?.cloudFallback);
  if (candidates.length === 0) return [];
  const marked: string[] = [];
  let eta: Map<string, number | null> | null = null;
  for (const job of candidates) {
    const thresholdMs = state.tiers[job.tier]!.cloudFallbackAfterSec * 1000;
    const waited = now - job.enqueuedAt;
    if (waited < thresholdMs) {
      eta ??= new Map(forecast(state, now).order.map((entry) => [entry.jobId, entry.etaMs]));
      const remaining = eta.get(job.jobId);
      if (remaining !== null && remaining !== undefined && waited + remaining <= thresholdMs) continue;
    }
    job.fallbackSince = now;
    marked.push(job.jobId);
  }
  return marked;
}

/**
 * When the workflow should call `dispatch` again if no event arrives first: a cooldown ends, a
 * cloud rate window reopens, a waiting job crosses its tier's cloud threshold, or a partial batch
 * reaches its timeout (it may be held until then, see planner.ts). null: nothing is
 * due; wait for events only. Leases have no deadline here: a job that dies without releasing is
 * found by the workflow's periodic lease check, and a job may hold its slot for as long as it runs.
 */
export function nextWakeAt(state: SchedulerState, now: number): number | null {
  let next = Number.POSITIVE_INFINITY;
  if (state.waiting.length > 0) {
    const windowStart = now - state.config.rateWindowMs;
    for (const backend of Object.values(state.backends)) {
      if (!backend.healthy) continue;
      if (backend.cooldownUntil > now) next = Math.min(next, backend.cooldownUntil);
      if (backend.rpmLimit > 0) {
        const inWindow = backend.recentGrants.filter((at) => at > windowStart);
        if (inWindow.length >= backend.rpmLimit) {
          next = Math.min(next, inWindow[inWindow.length - backend.rpmLimit]! + state.config.rateWindowMs);
        }
      }
    }
    for (const job of state.waiting) {
      const tier = state.tiers[job.tier];
      if (!tier?.cloudFallback || job.fallbackSince !== null) continue;
      const due = job.enqueuedAt + tier.cloudFallbackAfterSec * 1000;
      if (due > now) next = Math.min(next, due);
    }
    const oldest = oldestBatchable(state);
    for (const job of state.waiting) {
      const tier = state.tiers[job.tier];
      if (!tier?.batchEnabled || !job.batchable) continue;
      const due = oldest.get(job.model)! + tier.batchTimeoutSec * 1000;
      if (due > now) next = Math.min(next, due);
    }
  }
  return next === Number.POSITIVE_INFINITY ? null : Math.max(next, now);
}
