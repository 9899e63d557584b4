import { describe, expect, it } from 'vitest';
import { createSchedulerState, dispatch, enqueue, forecast, recordServiceTime, type TierPolicy } from '.';
import { ollama, fill, prng, Simulation, tier } from './simulation';

const T0 = 1_700_000_000_000;
const NO_AGING = { stepMs: 0, max: 0 };

const tiers: TierPolicy[] = [tier('std', { maxRunningPerUser: 1 }), tier('gold', { weight: 3, basePriority: 1, maxRunningPerUser: 2 })];

describe('positions are the order dispatch will use', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`one slot, mixed priorities, teams and weights (seed ${seed}): start order = published positions`, () => {
      const state = createSchedulerState({ tiers, backends: [ollama('o1', 1, ['m1'])], config: { aging: NO_AGING }, now: T0 });
      fill(state, 60, seed, T0);
      const at = T0 + 100;
      const published = forecast(state, at).order;
      expect(published.map((p) => p.position)).toEqual(published.map((_, i) => i));
      expect(new Set(published.map((p) => p.jobId)).size).toBe(60);

      const random = prng(seed * 7);
      // Service times the forecast cannot know: with one slot the order must not depend on them.
      const sim = new Simulation(state, () => 1_000 + Math.floor(random() * 20_000));
      sim.now = at;
      sim.run();
      expect(sim.violations).toEqual([]);
      expect(sim.started.map((s) => s.jobId)).toEqual(published.map((p) => p.jobId));
    });
  }

  // One planner carried through the whole backlog (forecast) against one built afresh per grant
  // (dispatch): the planner's running counts — jobs left per team and level, minimum-share teams
  // still waiting, the fair-share order it keeps sorted as teams are charged, aged jobs coming down
  // when the top native priority runs out — must give the decisions a fresh count gives.
  for (const seed of [1, 2, 3]) {
    it(`one slot, twelve teams, minimum shares and aged priorities (seed ${seed}): start order = published positions`, () => {
      const mixed = [
        tier('std', { maxRunningPerUser: 1 }),
        tier('gold', { weight: 3, basePriority: 1, maxRunningPerUser: 2 }),
        tier('floor', { weight: 2, minShare: 0.5 }),
      ];
      const state = createSchedulerState({ tiers: mixed, backends: [ollama('o1', 1, ['m1', 'm2'])], config: { aging: { stepMs: 1_000, max: 2 } }, now: T0 });
      const random = prng(seed);
      for (let i = 0; i < 300; i++) {
        const team = Math.floor(random() * 12);
        const result = enqueue(
          state,
          {
            jobId: `j${i}`,
            teamId: `t${team}`,
            userId: `t${team}-u${Math.floor(random() * 3)}`,
            tier: mixed[team % 3]!.name,
            model: random() < 0.5 ? 'm1' : 'm2',
            priority: Math.floor(random() * 3),
          },
          T0 + i,
        );
        if (!result.ok) throw new Error(result.reason);
      }
      // Every job has aged its full two steps by now, so priorities no longer change as time runs on.
      const at = T0 + 10_000;
      const published = forecast(state, at).order;
      expect(published.filter((p) => p.blocked === null)).toHaveLength(300);
      const sim = new Simulation(state, () => 5_000);
      sim.now = at;
      sim.run();
      expect(sim.violations).toEqual([]);
      expect(sim.started.map((s) => s.jobId)).toEqual(published.map((p) => p.jobId));
    });
  }

  it('several backends and models: with service times as measured, order and ETAs come true', () => {
    const backends = [ollama('a', 2, ['m1', 'm2']), ollama('b', 1, ['m1'])];
    const state = createSchedulerState({ tiers, backends, config: { aging: NO_AGING }, now: T0 });
    const serviceMs = { m1: 3_000, m2: 7_000 } as Record<string, number>;
    for (const backend of backends) for (const model of backend.models) recordServiceTime(state, model, backend.id, serviceMs[model]!);
    fill(state, 80, 11, T0, ['m1', 'm2']);
    const at = T0 + 100;
    const initial = dispatch(state, at).grants;
    const published = forecast(state, at).order;
    const sim = new Simulation(state, (grant) => serviceMs[grant.model]!);
    sim.now = at;
    sim.track(initial);
    sim.run();
    expect(sim.violations).toEqual([]);
    const started = sim.started.slice(initial.length);
    expect(started.map((s) => s.jobId)).toEqual(published.map((p) => p.jobId));
    expect(started.map((s) => s.at - at)).toEqual(published.map((p) => p.etaMs));
    expect(started.map((s) => s.grant.backendId)).toEqual(published.map((p) => p.backendId));
  });

  it('the first positions are exactly what dispatch grants now', () => {
    const state = createSchedulerState({ tiers, backends: [ollama('a', 3, ['m1']), ollama('b', 2, ['m1'])], now: T0 });
    fill(state, 40, 21, T0);
    const published = forecast(state, T0 + 50).order;
    const { grants } = dispatch(state, T0 + 50);
    expect(grants).toHaveLength(5);
    expect(grants.map((g) => g.jobId)).toEqual(published.slice(0, 5).map((p) => p.jobId));
    expect(published.slice(0, 5).every((p) => p.etaMs === 0)).toBe(true);
    expect(published[5]!.etaMs).toBeGreaterThan(0);
  });

  it('ETA grows with position and uses recent service times', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('a', 2, ['m1'])], now: T0 });
    recordServiceTime(state, 'm1', 'a', 10_000);
    for (let i = 0; i < 6; i++) enqueue(state, { jobId: `j${i}`, teamId: 't', userId: `u${i}`, tier: 'std', model: 'm1' }, T0);
    dispatch(state, T0);
    expect(forecast(state, T0 + 4_000).order.map((p) => p.etaMs)).toEqual([6_000, 6_000, 16_000, 16_000]);
  });
});
