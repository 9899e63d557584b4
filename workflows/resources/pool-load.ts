import { busySlots, isBackendUp, type JobPosition, type SchedulerState } from '../scheduler/core';
import type { PoolLoad } from './types';

/**
 * Per-pool load of a scheduler, for its status query. A waiting job counts in the pool the latest
 * forecast placed it on, else (blocked, or not yet forecast) in its tier's first preferred pool.
 * O(backends + waiting): no forecast is run here; `positions` is the one the scheduler keeps.
 */
export function poolLoad(state: SchedulerState, positions: ReadonlyMap<string, JobPosition>, now: number): PoolLoad[] {
  const pools = new Map<string, PoolLoad>();
  const at = (pool: string) => {
    let load = pools.get(pool);
    if (!load) {
      load = { pool, instances: 0, slots: 0, upSlots: 0, busy: 0, queueDepth: 0, oldestWaitMs: 0, expectedWaitMs: 0 };
      pools.set(pool, load);
    }
    return load;
  };
  for (const backend of Object.values(state.backends)) {
    const load = at(backend.pool);
    if (backend.kind === 'ollama') load.instances++;
    load.slots += backend.slots;
    if (isBackendUp(backend, now)) load.upSlots += backend.slots;
    load.busy += busySlots(backend);
  }
  for (const job of state.waiting) {
    const position = positions.get(job.jobId);
    const pool = position?.pool ?? state.tiers[job.tier]?.poolPreference[0];
    if (pool === undefined) continue;
    const load = at(pool);
    load.queueDepth++;
    load.oldestWaitMs = Math.max(load.oldestWaitMs, now - job.enqueuedAt);
    if (position?.etaMs != null) load.expectedWaitMs = Math.max(load.expectedWaitMs, position.etaMs);
  }
  return [...pools.values()].sort((a, b) => (a.pool < b.pool ? -1 : 1));
}
