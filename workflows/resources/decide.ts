import type {
  Decision,
  PoolSample,
  ResourceConfig,
  ResourceSample,
  ResourceState,
  ResourceStatus,
  ScaleRecommendation,
} from './types';

/**
 * The resource manager's decisions, pure: the workflow feeds it one sample per tick and acts on
 * what it returns. `decide` mutates the state it is given (the window, health counters, cooldown
 * marks), like the scheduler's core.
 */

export function createResourceState(): ResourceState {
  return { window: {}, health: {}, pressuredPools: [], lastScale: {}, recommendations: {}, lastHook: null, sampledAt: 0 };
}

export function decide(state: ResourceState, sample: ResourceSample, config: ResourceConfig, now: number): Decision {
  state.sampledAt = now;
  const health = decideHealth(state, sample, config, now);
  const seen = new Set<string>();
  for (const load of sample.pools) {
    seen.add(load.pool);
    const window = (state.window[load.pool] ??= []);
    window.push({ ...load, at: now });
    if (window.length > config.windowSize) window.splice(0, window.length - config.windowSize);
    state.lastScale[load.pool] ??= { out: 0, any: now };
  }
  // A pool that left the configuration leaves the window (and its pressure) with it.
  for (const pool of Object.keys(state.window)) {
    if (seen.has(pool)) continue;
    delete state.window[pool];
    delete state.lastScale[pool];
    delete state.recommendations[pool];
  }

  state.pressuredPools = Object.keys(state.window)
    .filter((pool) => median(state.window[pool]!.map(waitOf)) > config.preferCloudAfterWaitMs)
    .sort();
  const routing = sameSet(state.pressuredPools, sample.pressuredPools) ? null : [...state.pressuredPools];

  const recommendations: ScaleRecommendation[] = [];
  for (const pool of Object.keys(state.window)) {
    const recommendation = decideScale(state, pool, config, now);
    if (!recommendation) continue;
    state.recommendations[pool] = recommendation;
    const marks = state.lastScale[pool]!;
    marks.any = now;
    if (recommendation.action === 'scale_out') marks.out = now;
    recommendations.push(recommendation);
  }
  return { health, routing, recommendations };
}

/**
 * A backend goes down after `probeFailuresToDown` failed probes in a row and comes back on the
 * first good one. Compared with the scheduler's flag, not with the last decision, so a flag lost
 * or reset on the scheduler's side is corrected on the next tick.
 */
function decideHealth(state: ResourceState, sample: ResourceSample, config: ResourceConfig, now: number): Decision['health'] {
  const changes: Decision['health'] = [];
  const probes = new Map(sample.probes.map((probe) => [probe.backendId, probe]));
  const known = new Set<string>();
  for (const backend of sample.backends) {
    known.add(backend.id);
    const probe = probes.get(backend.id);
    if (!probe) continue;
    const previous = state.health[backend.id];
    const failures = probe.ok ? 0 : (previous?.failures ?? 0) + 1;
    const healthy = probe.ok || (failures < config.probeFailuresToDown && backend.healthy);
    state.health[backend.id] = {
      pool: backend.pool,
      healthy,
      failures,
      latencyMs: probe.latencyMs,
      error: probe.error ?? null,
      checkedAt: now,
    };
    if (healthy !== backend.healthy) changes.push({ backendId: backend.id, healthy });
  }
  for (const id of Object.keys(state.health)) if (!known.has(id)) delete state.health[id];
  return changes;
}

/**
 * Scale out while the median queue depth over the window reaches the threshold (to what the
 * busy slots plus the queue would fill, at least one more instance, at most the maximum); scale in
 * by one while the queue stayed shallow over the whole window and the busy slots fit in one
 * instance less. Only with a full window, only for pools of local instances, and each direction
 * behind its cooldown; below the minimum or above the maximum is corrected first.
 */
function decideScale(state: ResourceState, pool: string, config: ResourceConfig, now: number): ScaleRecommendation | null {
  const window = state.window[pool]!;
  const latest = window[window.length - 1]!;
  const { instances } = latest;
  if (instances === 0 || window.length < config.windowSize) return null;
  const scaling = config.autoScaling;
  const marks = state.lastScale[pool]!;
  const depth = median(window.map((s) => s.queueDepth));
  const busy = median(window.map((s) => s.busy));
  const slotsPerInstance = Math.max(1, latest.slots / instances);
  const make = (action: ScaleRecommendation['action'], targetInstances: number, reason: string): ScaleRecommendation => ({
    pool,
    action,
    currentInstances: instances,
    targetInstances,
    reason,
    at: now,
    queueDepth: latest.queueDepth,
    busy: latest.busy,
    slots: latest.slots,
  });
  const upCooled = now - marks.out >= scaling.scaleUpCooldownMs;
  const downCooled = now - marks.any >= scaling.scaleDownCooldownMs;

  if (instances < scaling.minInstances) {
    return upCooled ? make('scale_out', scaling.minInstances, `below the minimum of ${scaling.minInstances} instances`) : null;
  }
  if (instances > scaling.maxInstances) {
    return downCooled ? make('scale_in', scaling.maxInstances, `above the maximum of ${scaling.maxInstances} instances`) : null;
  }
  if (depth >= scaling.scaleUpQueueDepth && instances < scaling.maxInstances) {
    if (!upCooled) return null;
    const demand = Math.ceil((busy + depth) / slotsPerInstance);
    const target = Math.min(scaling.maxInstances, Math.max(instances + 1, demand));
    return make('scale_out', target, `median queue depth ${depth} ≥ ${scaling.scaleUpQueueDepth}`);
  }
  const deepest = Math.max(...window.map((s) => s.queueDepth));
  const busiest = Math.max(...window.map((s) => s.busy));
  if (deepest <= scaling.scaleDownQueueDepth && instances > scaling.minInstances && busiest <= (instances - 1) * slotsPerInstance) {
    if (!downCooled) return null;
    return make('scale_in', instances - 1, `queue depth ≤ ${scaling.scaleDownQueueDepth} over the last ${window.length} samples`);
  }
  return null;
}

export function resourceStatus(state: ResourceState, config: ResourceConfig): ResourceStatus {
  return {
    sampledAt: state.sampledAt,
    config,
    pools: Object.entries(state.window).map(([pool, window]) => ({
      ...(window[window.length - 1] as PoolSample),
      pressured: state.pressuredPools.includes(pool),
      medianWaitMs: median(window.map(waitOf)),
      recommendation: state.recommendations[pool] ?? null,
    })),
    backends: Object.entries(state.health).map(([id, health]) => ({ id, ...health })),
    lastHook: state.lastHook,
  };
}

/**
 * A pool's wait: what its queue has already waited or is forecast to wait, whichever is longer.
 * The forecast alone trusts mean service times, which run short exactly when a pool slows down
 * (leases past their expected end count as ending now).
 */
function waitOf(sample: PoolSample): number {
  return Math.max(sample.oldestWaitMs, sample.expectedWaitMs);
}

/** 0 for none. */
function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}
