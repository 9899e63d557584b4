import { describe, expect, it } from 'vitest';
import {
  busySlots,
  createSchedulerState,
  dispatch,
  enqueue,
  expectedServiceMs,
  forecast,
  markBackendHealth,
  pipelinedCount,
  queueSnapshot,
  recordServiceTime,
  release,
  removeBackend,
  upsertBackend,
  type SchedulerState,
  type TierPolicy,
} from '.';
import { cloud, ollama, fill, prng, Simulation, tier } from './simulation';

const T0 = 1_700_000_000_000;
const NO_AGING = { stepMs: 0, max: 0 };
const tiers: TierPolicy[] = [tier('std', { maxRunningPerUser: 1 }), tier('gold', { weight: 3, basePriority: 1, maxRunningPerUser: 2 })];

function submit(state: SchedulerState, jobId: string, fields: { model?: string; priority?: number; team?: string; tier?: string } = {}, at = T0) {
  const result = enqueue(
    state,
    { jobId, teamId: fields.team ?? 't', userId: `u-${jobId}`, tier: fields.tier ?? 'std', model: fields.model ?? 'm1', priority: fields.priority ?? 0 },
    at,
  );
  if (!result.ok) throw new Error(result.reason);
}

const held = (state: SchedulerState, backendId: string) => Object.values(state.leases).filter((l) => l.backendId === backendId);

describe('backends leaving and coming back', () => {
  it('a drained backend keeps its running leases; back again, it counts them and grants only its free slots', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 2, ['m1'])], now: T0 });
    for (let i = 0; i < 4; i++) submit(state, `j${i}`);
    expect(dispatch(state, T0).grants.map((g) => g.jobId)).toEqual(['j0', 'j1']);
    removeBackend(state, 'o1');
    expect(dispatch(state, T0 + 1).grants).toEqual([]);
    release(state, 'j0', T0 + 2, { serviceMs: 2 });
    upsertBackend(state, ollama('o1', 2, ['m1']));
    expect(state.backends.o1!.running).toBe(1);
    expect(dispatch(state, T0 + 3).grants.map((g) => g.jobId)).toEqual(['j2']);
  });
});

describe('pipelining (prefetch)', () => {
  it('grants up to prefetch leases beyond the slots, marks them not started, and keeps slots busy truthful', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 2, ['m1'], { prefetch: 1 })], now: T0 });
    for (let i = 0; i < 5; i++) submit(state, `j${i}`);
    const { grants } = dispatch(state, T0);
    expect(grants.map((g) => g.jobId)).toEqual(['j0', 'j1', 'j2']);
    expect(held(state, 'o1').map((l) => l.startedAt)).toEqual([T0, T0, null]);
    const backend = state.backends.o1!;
    expect([backend.running, busySlots(backend), pipelinedCount(backend)]).toEqual([3, 2, 1]);
    expect(dispatch(state, T0 + 1).grants).toEqual([]);

    const view = queueSnapshot(state, forecast(state, T0 + 1), 1);
    expect(view.pools[0]).toMatchObject({ running: 2, starting: 1, waiting: 2, backends: [{ id: 'o1', running: 2, queued: 1 }] });
    expect(view.teams.t!.running.find((r) => r.jobId === 'j2')?.starting).toBe(true);
  });

  it('a release starts the oldest pipelined lease and measures its service from then; a cancelled pipelined lease starts nothing', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 1, ['m1'], { prefetch: 2 })], now: T0 });
    for (let i = 0; i < 3; i++) submit(state, `j${i}`);
    dispatch(state, T0);
    expect(held(state, 'o1').map((l) => [l.jobId, l.startedAt])).toEqual([['j0', T0], ['j1', null], ['j2', null]]);

    release(state, 'j2', T0 + 1_000, { recordService: false });
    expect(state.leases.j1!.startedAt).toBeNull();
    release(state, 'j0', T0 + 5_000, { serviceMs: 5_000 });
    expect(state.leases.j1!.startedAt).toBe(T0 + 5_000);
    // The job reports its generate call (queue wait included); the scheduler counts from the start.
    release(state, 'j1', T0 + 8_000, { serviceMs: 8_000 });
    expect(expectedServiceMs(state, 'm1', 'o1')).toBeCloseTo(5_000 + 0.2 * (3_000 - 5_000));
    expect(state.backends.o1!.running).toBe(0);
  });

  it('pipelines no job that would evict a loaded model, and a job that cannot be pipelined is not overtaken there', () => {
    const state = createSchedulerState({
      tiers: [tier('std')],
      backends: [ollama('o1', 1, ['m1', 'm2'], { prefetch: 1, loadedModels: ['m1'] })],
      config: { aging: NO_AGING },
      now: T0,
    });
    submit(state, 'r', { model: 'm1' });
    dispatch(state, T0);
    submit(state, 'a', { model: 'm2' }, T0 + 1);
    submit(state, 'b', { model: 'm1' }, T0 + 2);
    expect(dispatch(state, T0 + 3).grants).toEqual([]);
    expect(forecast(state, T0 + 3).order.map((p) => p.jobId)).toEqual(['a', 'b']);

    // A second backend with m2 loaded takes `a` into its queue; then `b` may follow on o1.
    upsertBackend(state, ollama('o2', 1, ['m2'], { prefetch: 1, loadedModels: ['m2'] }));
    submit(state, 'x', { model: 'm2' }, T0 + 4);
    const grants = dispatch(state, T0 + 5).grants;
    expect(grants.map((g) => [g.jobId, g.backendId])).toEqual([['a', 'o2'], ['b', 'o1'], ['x', 'o2']]);
    expect([state.leases.a!.startedAt, state.leases.x!.startedAt, state.leases.b!.startedAt]).toEqual([T0 + 5, null, null]);
  });

  it('pipelines a job of another model where the backend has room to load it beside the loaded one', () => {
    const state = createSchedulerState({
      tiers: [tier('std')],
      backends: [ollama('o1', 1, ['m1', 'm2'], { prefetch: 1, loadedModels: ['m1'], maxLoadedModels: 2 })],
      config: { aging: NO_AGING },
      now: T0,
    });
    submit(state, 'r', { model: 'm1' });
    dispatch(state, T0);
    submit(state, 'a', { model: 'm2' }, T0 + 1);
    expect(dispatch(state, T0 + 2).grants.map((g) => [g.jobId, g.backendId])).toEqual([['a', 'o1']]);
    expect(state.leases.a!.startedAt).toBeNull();
    expect(state.backends.o1!.loadedModels).toEqual(['m2', 'm1']);
  });

  it('never pipelines onto cloud backends or a backend that is down, and never past prefetch', () => {
    const state = createSchedulerState({
      tiers: [tier('std', { poolPreference: ['local', 'cloud'] })],
      backends: [ollama('o1', 1, ['m1'], { prefetch: 2, loadedModels: ['m1'] }), cloud('c1', 1, ['m1'], { prefetch: 3 })],
      now: T0,
    });
    for (let i = 0; i < 8; i++) submit(state, `j${i}`);
    markBackendHealth(state, 'o1', false);
    expect(dispatch(state, T0).grants.map((g) => g.backendId)).toEqual(['c1']);
    markBackendHealth(state, 'o1', true);
    expect(dispatch(state, T0 + 1).grants.map((g) => g.backendId)).toEqual(['o1', 'o1', 'o1']);
    expect(state.backends.c1!.running).toBe(1);
    expect(state.backends.o1!.running).toBe(3);
    markBackendHealth(state, 'o1', false);
    release(state, 'j0', T0 + 2, { ok: false });
    expect(dispatch(state, T0 + 3).grants.map((g) => g.backendId)).toEqual(['c1']);
  });

  it('the cost: a later, higher-priority arrival does not overtake jobs already pipelined', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 1, ['m1'], { prefetch: 1 })], config: { aging: NO_AGING }, now: T0 });
    submit(state, 'first');
    submit(state, 'second');
    dispatch(state, T0);
    submit(state, 'urgent', { priority: 5 }, T0 + 1);
    expect(dispatch(state, T0 + 1).grants).toEqual([]);
    release(state, 'first', T0 + 10);
    expect(state.leases.second!.startedAt).toBe(T0 + 10);
    expect(dispatch(state, T0 + 10).grants.map((g) => g.jobId)).toEqual(['urgent']);
  });

  // Per-user limits count pipelined leases as running (they hold a slot as soon as one frees), so
  // with limits a user at its cap is passed over for the queue where it would not be for a slot;
  // the published order still comes true.
  const unlimited = tiers.map((policy) => ({ ...policy, maxRunningPerUser: 0 }));
  for (const seed of [1, 2, 3]) {
    it(`one slot, prefetch 2, mixed priorities and teams (seed ${seed}): start order = published positions, = without prefetch absent per-user caps`, () => {
      const run = (prefetch: number, policies: TierPolicy[]) => {
        const state = createSchedulerState({ tiers: policies, backends: [ollama('o1', 1, ['m1'], { prefetch })], config: { aging: NO_AGING }, now: T0 });
        fill(state, 60, seed, T0);
        const at = T0 + 100;
        const published = forecast(state, at).order;
        const random = prng(seed * 7);
        const sim = new Simulation(state, () => 1_000 + Math.floor(random() * 20_000));
        sim.now = at;
        sim.run();
        expect(sim.violations).toEqual([]);
        expect(sim.started.map((s) => s.jobId)).toEqual(published.map((p) => p.jobId));
        return sim.started.map((s) => s.jobId);
      };
      run(2, tiers);
      expect(run(2, unlimited)).toEqual(run(0, unlimited));
    });
  }

  it('several backends and models: positions, backends and ETAs (slot starts, not grants) come true', () => {
    const backends = [ollama('a', 2, ['m1', 'm2'], { prefetch: 2, maxLoadedModels: 2 }), ollama('b', 1, ['m1'], { prefetch: 1 })];
    const state = createSchedulerState({ tiers, backends, config: { aging: NO_AGING }, now: T0 });
    const serviceMs: Record<string, number> = { m1: 3_000, m2: 7_000 };
    for (const backend of backends) for (const model of backend.models) recordServiceTime(state, model, backend.id, serviceMs[model]!);
    fill(state, 80, 11, T0, ['m1', 'm2']);
    const at = T0 + 100;
    const initial = dispatch(state, at).grants;
    expect(Object.values(state.leases).some((l) => l.startedAt === null)).toBe(true);
    const published = forecast(state, at).order;
    const sim = new Simulation(state, (grant) => serviceMs[grant.model]!);
    sim.now = at;
    sim.track(initial);
    sim.run();
    expect(sim.violations).toEqual([]);
    const initialIds = new Set(initial.map((g) => g.jobId));
    const started = new Map(sim.started.filter((s) => !initialIds.has(s.jobId)).map((s) => [s.jobId, s]));
    expect(published.map((p) => started.get(p.jobId)!.grant.backendId)).toEqual(published.map((p) => p.backendId));
    expect(published.map((p) => started.get(p.jobId)!.at - at)).toEqual(published.map((p) => p.etaMs));
  });
});
