import { describe, expect, it } from 'vitest';
import { createSchedulerState, dispatch, enqueue, forecast, queueSnapshot } from './index';
import { cloud, ollama, tier } from './test-support';

const T0 = 1_700_000_000_000;

function queued() {
  const state = createSchedulerState({
    tiers: [tier('std'), tier('cloudy', { poolPreference: ['cloud'] })],
    backends: [ollama('o1', 1, ['m1']), ollama('o2', 1, ['m1']), cloud('c1', 1, ['m1'])],
    config: { aging: { stepMs: 0, max: 0 } },
    now: T0,
  });
  const jobs = [
    ['a1', 'ta', 'ua', 'std', 'm1'],
    ['b1', 'tb', 'ub', 'std', 'm1'],
    ['a2', 'ta', 'ua', 'std', 'm1'],
    ['b2', 'tb', 'ub', 'std', 'm1'],
    ['b3', 'tb', 'ub2', 'std', 'm1'],
    ['c1', 'tc', 'uc', 'cloudy', 'm1'],
    ['c2', 'tc', 'uc', 'cloudy', 'm1'],
    ['ax', 'ta', 'ua', 'std', 'unserved'],
  ] as const;
  for (const [i, [jobId, teamId, userId, tierName, model]] of jobs.entries()) {
    const result = enqueue(state, { jobId, teamId, userId, tier: tierName, model }, T0 + i);
    if (!result.ok) throw new Error(result.reason);
  }
  dispatch(state, T0 + 100);
  return state;
}

describe('queueSnapshot', () => {
  it('splits the forecast into per-pool counts and per-team jobs, positions as the forecast has them', () => {
    const state = queued();
    const planned = forecast(state, T0 + 200);
    const snapshot = queueSnapshot(state, planned, 7);

    expect(snapshot.version).toBe(7);
    expect(snapshot.at).toBe(T0 + 200);
    expect(snapshot.pools.map((p) => [p.pool, p.running, p.waiting])).toEqual([
      ['cloud', 1, 1],
      ['local', 2, 4],
    ]);
    expect(snapshot.pools[1]!.backends.map((b) => [b.id, b.slots, b.running, b.up])).toEqual([
      ['o1', 1, 1, true],
      ['o2', 1, 1, true],
    ]);

    const waiting = Object.values(snapshot.teams).flatMap((t) => t.waiting);
    expect(waiting.map((w) => w.jobId).sort()).toEqual(planned.order.map((p) => p.jobId).sort());
    for (const entry of planned.order) {
      const view = waiting.find((w) => w.jobId === entry.jobId)!;
      expect([view.position, view.etaMs, view.blocked]).toEqual([entry.position, entry.etaMs, entry.blocked]);
    }
    // Within a pool, poolPosition counts only that pool's jobs, in dispatch order.
    for (const name of ['local', 'cloud']) {
      const inPool = waiting.filter((w) => w.pool === name).sort((a, b) => a.position - b.position);
      expect(inPool.map((w) => w.poolPosition)).toEqual(inPool.map((_, i) => i));
    }
    // A job no backend serves is blocked, counted in its tier's first pool.
    expect(waiting.find((w) => w.jobId === 'ax')).toMatchObject({ pool: 'local', etaMs: null, blocked: 'no-backend-for-model' });
    expect(waiting.find((w) => w.jobId === 'a2')?.since).toBe(T0 + 2);

    const running = Object.entries(snapshot.teams).flatMap(([teamId, t]) => t.running.map((r) => ({ teamId, ...r })));
    expect(running.map((r) => r.jobId).sort()).toEqual(Object.keys(state.leases).sort());
    expect(running.every((r) => r.since === T0 + 100)).toBe(true);
  });

  it('keeps each team’s jobs under that team only', () => {
    const snapshot = queueSnapshot(queued(), forecast(queued(), T0 + 200), 1);
    for (const [teamId, view] of Object.entries(snapshot.teams)) {
      for (const job of [...view.waiting, ...view.running]) expect(job.jobId[0]).toBe(teamId[1]);
    }
  });

  it('is plain data that survives JSON (it crosses a Temporal query)', () => {
    const state = queued();
    const snapshot = queueSnapshot(state, forecast(state, T0 + 200), 1);
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
  });
});
