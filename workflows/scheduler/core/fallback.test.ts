import { describe, expect, it } from 'vitest';
import { createSchedulerState, dispatch, enqueue, forecast, markBackendHealth, nextWakeAt, recordServiceTime, type SchedulerState } from '.';
import { cloud, ollama, tier } from './simulation';

const T0 = 1_700_000_000_000;

function submit(state: SchedulerState, jobId: string, tierName: string, model = 'm1', now = T0) {
  const result = enqueue(state, { jobId, teamId: `team-${tierName}`, userId: `user-${jobId}`, tier: tierName, model }, now);
  if (!result.ok) throw new Error(result.reason);
}

function pool(extraTiers = [tier('free', { poolPreference: ['local'] })]) {
  const state = createSchedulerState({
    tiers: [tier('premium', { cloudFallback: true, cloudFallbackAfterSec: 60 }), ...extraTiers],
    backends: [ollama('o1', 1, ['m1']), cloud('c1', 10, ['m1', 'big'])],
    config: { aging: { stepMs: 0, max: 0 } },
    now: T0,
  });
  recordServiceTime(state, 'm1', 'o1', 40_000);
  return state;
}

describe('cloud fallback', () => {
  it('never for a tier that does not allow it, however long the wait', () => {
    const state = pool();
    submit(state, 'busy', 'free');
    submit(state, 'waiting', 'free');
    dispatch(state, T0);
    expect(dispatch(state, T0 + 3_600_000).grants).toEqual([]);
    expect(state.backends.c1!.running).toBe(0);
  });

  it('only once waited + expected wait passes the tier threshold', () => {
    const state = pool();
    submit(state, 'busy', 'free');
    expect(dispatch(state, T0).grants.map((g) => g.backendId)).toEqual(['o1']);
    submit(state, 'soon', 'premium'); // next on o1, in 40 s: under 60 s, stays local
    submit(state, 'late', 'premium'); // 80 s away: goes to cloud now
    const { grants, fallbackMarked } = dispatch(state, T0);
    expect(fallbackMarked).toEqual(['late']);
    expect(grants).toEqual([expect.objectContaining({ jobId: 'late', backendId: 'c1', route: 'fallback' })]);
    expect(state.waiting.map((j) => j.jobId)).toEqual(['soon']);
    expect(nextWakeAt(state, T0)).toBe(T0 + 60_000);
  });

  it('after the threshold by time alone when the local slot stays busy longer than expected', () => {
    const state = pool();
    submit(state, 'busy', 'free');
    dispatch(state, T0);
    submit(state, 'soon', 'premium');
    expect(dispatch(state, T0 + 30_000).grants).toEqual([]);
    expect(dispatch(state, T0 + 60_000).grants).toEqual([expect.objectContaining({ jobId: 'soon', route: 'fallback' })]);
  });

  it('prefers a free local slot even for a job marked for fallback', () => {
    const state = pool();
    submit(state, 'a', 'premium', 'm1', T0 - 120_000);
    expect(dispatch(state, T0).grants).toEqual([expect.objectContaining({ jobId: 'a', backendId: 'o1', route: 'preferred' })]);
  });

  it('immediately when no local backend serves the model or all are down, if the tier allows it', () => {
    const state = pool();
    submit(state, 'p-big', 'premium', 'big');
    submit(state, 'f-big', 'free', 'big');
    expect(dispatch(state, T0).grants).toEqual([expect.objectContaining({ jobId: 'p-big', backendId: 'c1', route: 'fallback' })]);
    expect(forecast(state, T0).order[0]).toMatchObject({ jobId: 'f-big', blocked: 'no-backend-for-model' });

    markBackendHealth(state, 'o1', false);
    submit(state, 'p-m1', 'premium');
    expect(dispatch(state, T0).grants).toEqual([expect.objectContaining({ jobId: 'p-m1', backendId: 'c1' })]);
  });

  it('stays within the cloud rate limit and wakes when the window reopens', () => {
    const state = createSchedulerState({
      tiers: [tier('premium', { cloudFallback: true, cloudFallbackAfterSec: 0 })],
      backends: [ollama('o1', 1, ['m1']), cloud('c1', 10, ['m1'], { rpmLimit: 2 })],
      now: T0,
    });
    for (let i = 0; i < 5; i++) submit(state, `j${i}`, 'premium', 'm1', T0 + i);
    expect(dispatch(state, T0 + 10).grants.map((g) => g.backendId)).toEqual(['o1', 'c1', 'c1']);
    expect(dispatch(state, T0 + 20_000).grants).toEqual([]);
    expect(nextWakeAt(state, T0 + 20_000)).toBe(T0 + 60_010);
    expect(forecast(state, T0 + 20_000).order.map((p) => p.etaMs)).toEqual([10_010, 40_010]); // o1 frees at +30 s (default service time), then the rate window
    expect(dispatch(state, T0 + 60_010).grants.map((g) => g.jobId)).toEqual(['j3', 'j4']);
  });

  it('a tier that prefers the cloud pool uses it first and local capacity when the cloud is full', () => {
    const state = createSchedulerState({
      tiers: [tier('free', { poolPreference: ['cloud', 'local'] })],
      backends: [ollama('o1', 2, ['m1']), cloud('c1', 1, ['m1'])],
      now: T0,
    });
    for (let i = 0; i < 3; i++) submit(state, `j${i}`, 'free');
    expect(dispatch(state, T0).grants.map((g) => [g.backendId, g.route])).toEqual([
      ['c1', 'preferred'],
      ['o1', 'preferred'],
      ['o1', 'preferred'],
    ]);
  });
});
