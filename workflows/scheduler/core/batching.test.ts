import { describe, expect, it } from 'vitest';
import { createSchedulerState, dispatch, enqueue, forecast, nextWakeAt, release, type BackendInit, type SchedulerState } from '.';
import { idleViolations, ollama, prng, Simulation, tier, type Arrival } from './simulation';

const T0 = 1_700_000_000_000;
const A = 'model-a';
const B = 'model-b';
const C = 'model-c';

function setup(backends: BackendInit[], batching: { batchEnabled?: boolean; maxBatchSize?: number; batchTimeoutSec?: number } = {}): SchedulerState {
  return createSchedulerState({ tiers: [tier('std', { batchEnabled: true, maxBatchSize: 3, batchTimeoutSec: 30, ...batching })], backends, now: T0 });
}

function submit(state: SchedulerState, jobId: string, model: string, at = T0, batchable = true) {
  const result = enqueue(state, { jobId, teamId: 't', userId: `u-${jobId}`, tier: 'std', model, batchable }, at);
  if (!result.ok) throw new Error(result.reason);
}

const placed = (state: SchedulerState, at: number) => dispatch(state, at).grants.map((grant) => `${grant.jobId}@${grant.backendId}`);

describe('batching: grouping', () => {
  const twoBackends = () => [ollama('b1', 2, [A, B], { loadedModels: [A], maxLoadedModels: 1 }), ollama('b2', 2, [A, B], { loadedModels: [A], maxLoadedModels: 1 })];

  it('a job that must load its model brings the oldest batchable jobs of that model to the same backend, up to maxBatchSize', () => {
    const state = setup(twoBackends());
    ['x1:b', 'y1:a', 'x2:b', 'y2:a', 'x3:b', 'x4:b'].forEach((entry) => {
      const [id, model] = entry.split(':');
      submit(state, id!, model === 'a' ? A : B, T0, model === 'b');
    });
    expect(placed(state, T0)).toEqual(['x1@b1', 'x2@b1', 'x3@b1', 'y1@b2', 'y2@b2']);
    // The third shares the load from the backend's own queue: it starts when a slot there frees.
    expect(state.leases.x3!.startedAt).toBeNull();
    expect(state.waiting.map((job) => job.jobId)).toEqual(['x4']);
  });

  it('without batching the same jobs are granted one by one in order, and the model is loaded on both backends', () => {
    const state = setup(twoBackends(), { batchEnabled: false });
    ['x1:b', 'y1:a', 'x2:b', 'y2:a', 'x3:b'].forEach((entry) => {
      const [id, model] = entry.split(':');
      submit(state, id!, model === 'a' ? A : B, T0, model === 'b');
    });
    expect(placed(state, T0)).toEqual(['x1@b1', 'y1@b2', 'x2@b1', 'y2@b2']);
    release(state, 'y1', T0 + 1_000);
    expect(placed(state, T0 + 1_000)).toEqual(['x3@b2']);
    expect(state.backends.b2!.loadedModels).toEqual([B]);
  });

  it('jobs not marked batchable never form or join a batch', () => {
    const state = setup(twoBackends());
    submit(state, 'x1', B, T0, false);
    submit(state, 'y1', A, T0, false);
    submit(state, 'x2', B, T0, false);
    expect(placed(state, T0)).toEqual(['x1@b1', 'y1@b2', 'x2@b1']);
  });

  it('a job whose model is loaded where it goes is granted alone, in its turn', () => {
    const state = setup([ollama('b1', 2, [A, B], { loadedModels: [B], maxLoadedModels: 1 }), ollama('b2', 2, [A, B], { loadedModels: [A], maxLoadedModels: 1 })]);
    submit(state, 'x1', B);
    submit(state, 'y1', A, T0, false);
    submit(state, 'x2', B);
    expect(placed(state, T0)).toEqual(['x1@b1', 'y1@b2', 'x2@b1']);
  });

  it('positions show the batch order: the forecast runs the same planner', () => {
    const state = setup(twoBackends());
    ['x1:b', 'y1:a', 'x2:b', 'y2:a', 'x3:b'].forEach((entry) => {
      const [id, model] = entry.split(':');
      submit(state, id!, model === 'a' ? A : B, T0, model === 'b');
    });
    const shown = forecast(state, T0).order.map((entry) => entry.jobId);
    expect(dispatch(state, T0).grants.map((grant) => grant.jobId)).toEqual(shown);
  });
});

describe('batching: a partial batch waits, at most batchTimeout, only where it saves a load', () => {
  const oneSlot = () => [ollama('b1', 1, [A, B], { loadedModels: [A], maxLoadedModels: 1 })];

  it('holds a batchable job that would load its model into the last free slot, and its idle slot is no violation', () => {
    const state = setup(oneSlot(), { maxBatchSize: 3 });
    submit(state, 'x1', B);
    expect(placed(state, T0)).toEqual([]);
    expect(idleViolations(state, T0)).toEqual([]);
    expect(nextWakeAt(state, T0)).toBe(T0 + 30_000);
    // The forecast shows it starting when its batch times out.
    expect(forecast(state, T0).order[0]).toMatchObject({ jobId: 'x1', etaMs: 30_000, backendId: 'b1' });
  });

  it('sends the batch as soon as it is full, all to one backend', () => {
    const state = setup(oneSlot(), { maxBatchSize: 3 });
    submit(state, 'x1', B);
    submit(state, 'x2', B, T0 + 1_000);
    expect(placed(state, T0 + 1_000)).toEqual([]);
    submit(state, 'x3', B, T0 + 2_000);
    expect(placed(state, T0 + 2_000)).toEqual(['x1@b1', 'x2@b1', 'x3@b1']);
  });

  it('never past the timeout, counted from the oldest job of the batch', () => {
    const state = setup(oneSlot(), { maxBatchSize: 3 });
    submit(state, 'x1', B);
    submit(state, 'x2', B, T0 + 20_000);
    expect(placed(state, T0 + 29_999)).toEqual([]);
    expect(placed(state, T0 + 30_000)).toEqual(['x1@b1', 'x2@b1']);
  });

  it('past the timeout an idle slot beside a waiting batchable job is a violation again', () => {
    const state = setup(oneSlot(), { maxBatchSize: 3 });
    submit(state, 'x1', B);
    expect(idleViolations(state, T0 + 30_000)).toEqual(['b1 idle while x1 waits']);
  });

  it('never holds a job while a slot with its model loaded is free', () => {
    const state = setup([...oneSlot(), ollama('b2', 1, [A, B], { loadedModels: [B], maxLoadedModels: 1 })], { maxBatchSize: 3 });
    submit(state, 'x1', B);
    expect(placed(state, T0)).toEqual(['x1@b2']);
  });

  it('does not hold when the backend has slots to spare: a later job of the model would find it loaded anyway', () => {
    const state = setup([ollama('b1', 4, [A, B], { loadedModels: [A], maxLoadedModels: 1 })], { maxBatchSize: 5 });
    submit(state, 'x1', B);
    submit(state, 'x2', B);
    expect(placed(state, T0)).toEqual(['x1@b1', 'x2@b1']);
  });

  it('lets other jobs take the slot meanwhile', () => {
    const state = setup([ollama('b1', 1, [A, B], { loadedModels: [A], maxLoadedModels: 1 })], { maxBatchSize: 3 });
    submit(state, 'x1', B);
    submit(state, 'y1', A, T0 + 1, false);
    expect(placed(state, T0 + 1)).toEqual(['y1@b1']);
  });

  it('a timeout of 0 never holds', () => {
    const state = setup(oneSlot(), { maxBatchSize: 3, batchTimeoutSec: 0 });
    submit(state, 'x1', B);
    expect(placed(state, T0)).toEqual(['x1@b1']);
  });
});

describe('simulation: model loads as Ollama makes them', () => {
  it('loads once per model, shares a load in progress, and waits for a busy model to end before replacing it', () => {
    const state = setup([ollama('b1', 3, [A, B], { maxLoadedModels: 1 })], { batchEnabled: false });
    const sim = new Simulation(state, () => 10_000, { loadMs: 3_000 });
    sim.arrive([
      { at: T0, request: { jobId: 'a1', teamId: 't', userId: 'u1', tier: 'std', model: A } },
      { at: T0, request: { jobId: 'a2', teamId: 't', userId: 'u2', tier: 'std', model: A } },
      { at: T0, request: { jobId: 'b1', teamId: 't', userId: 'u3', tier: 'std', model: B } },
    ]);
    sim.run();
    const generating = Object.fromEntries(sim.started.map((s) => [s.jobId, s.generatingAt - T0]));
    // a1 and a2 share one load; b1 waits until model-a is idle (13 s), then loads (3 s).
    expect(generating).toEqual({ a1: 3_000, a2: 3_000, b1: 16_000 });
    expect(sim.modelLoads()).toEqual({ b1: 2 });
  });

  it('mixed batchable load on backends holding 2 models each: every job runs, no slot idles beyond a batch timeout, and batching loads less', () => {
    const run = (batchEnabled: boolean) => {
      const state = createSchedulerState({
        tiers: [tier('std', { batchEnabled, maxBatchSize: 5, batchTimeoutSec: 30 })],
        backends: ['o1', 'o2', 'o3', 'o4'].map((id) => ollama(id, 2, [A, B, C], { maxLoadedModels: 2 })),
        now: T0,
      });
      const random = prng(7);
      const arrivals: Arrival[] = [];
      for (let i = 0, at = T0; i < 300; i++, at += Math.round(random() * 1_000)) {
        arrivals.push({ at, request: { jobId: `j${i}`, teamId: `t${i % 3}`, userId: `u${i % 7}`, tier: 'std', model: [A, B, C][Math.floor(random() * 3)]!, batchable: true } });
      }
      const sim = new Simulation(state, (grant) => 4_000 + (grant.jobId.length % 3) * 1_000, { loadMs: 3_000 });
      sim.arrive(arrivals);
      sim.run();
      return { sim, loads: Object.values(sim.modelLoads()).reduce((a, b) => a + b, 0) };
    };
    const off = run(false);
    const on = run(true);
    for (const { sim } of [off, on]) {
      expect(sim.violations).toEqual([]);
      expect(sim.started).toHaveLength(300);
    }
    expect(on.loads).toBeLessThan(off.loads);
  });
});
