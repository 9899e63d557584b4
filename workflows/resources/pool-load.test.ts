import { describe, expect, it } from 'vitest';
import { createSchedulerState, dispatch, enqueue, forecast, markBackendHealth } from '../scheduler/core';
import { cloud, ollama, tier } from '../scheduler/core/simulation';
import { poolLoad } from './pool-load';

describe('pool load', () => {
  it('counts instances, slots up and busy, and the waiting jobs with their waits per pool', () => {
    const state = createSchedulerState({
      tiers: [tier('free', { poolPreference: ['local'] })],
      backends: [ollama('a', 2, ['m']), ollama('b', 2, ['m']), cloud('c', 8, ['m'], { pool: 'cloud' })],
      now: 0,
    });
    markBackendHealth(state, 'b', false);
    for (let i = 0; i < 5; i++) enqueue(state, { jobId: `j${i}`, teamId: 't', userId: `u${i}`, tier: 'free', model: 'm' }, i * 1_000);
    dispatch(state, 5_000);
    const positions = new Map(forecast(state, 10_000).order.map((p) => [p.jobId, p]));
    const [cloudPool, local] = poolLoad(state, positions, 10_000);
    expect(cloudPool).toMatchObject({ pool: 'cloud', instances: 0, slots: 8, upSlots: 8, busy: 0, queueDepth: 0 });
    // Two granted on "a"; three wait, the oldest since t=2 s, the last expected after two rounds of service.
    expect(local).toMatchObject({ pool: 'local', instances: 2, slots: 4, upSlots: 2, busy: 2, queueDepth: 3, oldestWaitMs: 8_000 });
    expect(local!.expectedWaitMs).toBe(Math.max(...['j2', 'j3', 'j4'].map((id) => positions.get(id)!.etaMs!)));
    expect(local!.expectedWaitMs).toBeGreaterThan(0);
  });
});
