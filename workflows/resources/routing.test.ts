import { describe, expect, it } from 'vitest';
import { createSchedulerState, dispatch, enqueue } from '../scheduler/core';
import { cloud, ollama, tier } from '../scheduler/core/simulation';
import { applyPressure } from './routing';

const request = (jobId: string, tierName: string) => ({ jobId, teamId: 't', userId: `u-${jobId}`, tier: tierName, model: 'm' });

function busyScheduler() {
  const state = createSchedulerState({
    tiers: [
      tier('premium', { cloudFallback: true, cloudFallbackAfterSec: 600, poolPreference: ['local', 'remote-cloud'] }),
      tier('enterprise', { cloudFallback: false }),
      tier('mixed', { cloudFallback: true, cloudFallbackAfterSec: 600, poolPreference: ['local', 'gpu'] }),
    ],
    backends: [ollama('gpu-1', 1, ['m']), ollama('dgx-1', 1, ['m'], { pool: 'gpu' }), cloud('cloud-1', 4, ['m'])],
    now: 0,
  });
  enqueue(state, request('running', 'enterprise'), 0);
  enqueue(state, { ...request('running-gpu', 'mixed'), model: 'm' }, 0);
  dispatch(state, 0);
  return state;
}

describe('routing under pressure', () => {
  it('sends waiting jobs of tiers that allow fallback to cloud at once, and no others', () => {
    const state = busyScheduler();
    for (const [id, name] of [['p', 'premium'], ['e', 'enterprise'], ['x', 'mixed']] as const) enqueue(state, request(id, name), 1_000);
    // Without pressure, nobody has waited out the premium tier's 600 s: the local slot is busy, all wait.
    expect(dispatch(state, 2_000).grants).toEqual([]);

    expect(applyPressure(state, ['local'], 3_000)).toEqual(['p']);
    const grants = dispatch(state, 3_000).grants;
    expect(grants.map((g) => [g.jobId, g.backendId, g.route])).toEqual([['p', 'cloud-1', 'fallback']]);
    // Enterprise never falls back; "mixed" also prefers the local pool "gpu", not pressured.
    expect(state.waiting.map((job) => job.jobId)).toEqual(['e', 'x']);
  });

  it('still prefers a free local slot, and does nothing without pressure', () => {
    const state = createSchedulerState({
      tiers: [tier('premium', { cloudFallback: true, cloudFallbackAfterSec: 600 })],
      backends: [ollama('gpu-1', 1, ['m']), cloud('cloud-1', 4, ['m'])],
      now: 0,
    });
    enqueue(state, request('p', 'premium'), 0);
    expect(applyPressure(state, [], 0)).toEqual([]);
    applyPressure(state, ['local'], 0);
    expect(dispatch(state, 0).grants.map((g) => g.backendId)).toEqual(['gpu-1']);
  });
});
