import { describe, expect, it } from 'vitest';
import {
  createSchedulerState,
  dispatch,
  effectivePriority,
  enqueue,
  forecast,
  markBackendHealth,
  nextWakeAt,
  recordBackendFailure,
  recordBackendSuccess,
  release,
  removeWaiting,
  setBoost,
  setTiers,
  snapshots,
  type SchedulerState,
} from '.';
import { ollama, prng, Simulation, tier } from './simulation';

const T0 = 1_700_000_000_000;

function submit(state: SchedulerState, jobId: string, fields: Partial<{ team: string; user: string; tier: string; model: string; priority: number }> = {}, now = T0) {
  const result = enqueue(
    state,
    {
      jobId,
      teamId: fields.team ?? 'team-a',
      userId: fields.user ?? `user-${jobId}`,
      tier: fields.tier ?? 'std',
      model: fields.model ?? 'm1',
      priority: fields.priority ?? 0,
    },
    now,
  );
  if (!result.ok) throw new Error(result.reason);
  return result.job;
}

describe('admission and eligibility', () => {
  it('refuses unknown tiers, disallowed models and a full per-user queue, and is idempotent per job', () => {
    const state = createSchedulerState({
      tiers: [tier('std', { allowedModels: ['m1'], maxQueuedPerUser: 2 })],
      backends: [ollama('o1', 1, ['m1', 'm2'])],
      now: T0,
    });
    const request = { jobId: 'j1', teamId: 't', userId: 'u', tier: 'std', model: 'm1' };
    expect(enqueue(state, { ...request, tier: 'gold' }, T0)).toEqual({ ok: false, reason: 'unknown-tier' });
    expect(enqueue(state, { ...request, model: 'm2' }, T0)).toEqual({ ok: false, reason: 'model-not-allowed' });
    expect(enqueue(state, request, T0)).toMatchObject({ ok: true, duplicate: false });
    expect(enqueue(state, request, T0)).toMatchObject({ ok: true, duplicate: true });
    expect(enqueue(state, { ...request, jobId: 'j2' }, T0)).toMatchObject({ ok: true });
    expect(enqueue(state, { ...request, jobId: 'j3' }, T0)).toEqual({ ok: false, reason: 'user-queue-full' });
    expect(state.waiting).toHaveLength(2);
    dispatch(state, T0);
    expect(enqueue(state, request, T0)).toEqual({ ok: false, reason: 'already-running' });
  });

  it('enforces max running per user while other users fill the remaining slots', () => {
    const state = createSchedulerState({ tiers: [tier('std', { maxRunningPerUser: 1 })], backends: [ollama('o1', 3, ['m1'])], now: T0 });
    submit(state, 'a1', { user: 'alice' });
    submit(state, 'a2', { user: 'alice' });
    submit(state, 'a3', { user: 'alice' });
    submit(state, 'b1', { user: 'bob' });
    const { grants } = dispatch(state, T0);
    expect(grants.map((g) => g.jobId)).toEqual(['a1', 'b1']);
    expect(state.backends.o1!.running).toBe(2);
    release(state, 'a1', T0 + 10);
    expect(dispatch(state, T0 + 10).grants.map((g) => g.jobId)).toEqual(['a2']);
  });

  it('places jobs only in the pools of their tier and on backends serving the model', () => {
    const state = createSchedulerState({
      tiers: [tier('ent', { poolPreference: ['dedicated'] }), tier('std')],
      backends: [ollama('shared', 2, ['m1']), ollama('ded', 1, ['m1'], { pool: 'dedicated' })],
      now: T0,
    });
    submit(state, 'e1', { tier: 'ent', team: 'ent-team' });
    submit(state, 'e2', { tier: 'ent', team: 'ent-team' });
    submit(state, 's1', { model: 'm9' });
    const { grants } = dispatch(state, T0);
    expect(grants).toEqual([expect.objectContaining({ jobId: 'e1', backendId: 'ded', route: 'preferred' })]);
    const byJob = Object.fromEntries(forecast(state, T0).order.map((p) => [p.jobId, p]));
    expect(byJob.e2).toMatchObject({ position: 0, backendId: 'ded', blocked: null });
    expect(byJob.s1).toMatchObject({ etaMs: null, blocked: 'no-backend-for-model' });
  });

  it('gives nothing to an unhealthy or cooling backend', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 1, ['m1']), ollama('o2', 1, ['m1'])], now: T0 });
    markBackendHealth(state, 'o1', false);
    for (let i = 0; i < 3; i++) recordBackendFailure(state, 'o2', T0);
    submit(state, 'j1');
    expect(dispatch(state, T0).grants).toEqual([]);
    expect(forecast(state, T0).order[0]).toMatchObject({ jobId: 'j1', etaMs: 30_000, backendId: 'o2' });
    expect(nextWakeAt(state, T0)).toBe(T0 + 30_000);
    expect(dispatch(state, T0 + 29_999).grants).toEqual([]);
    expect(dispatch(state, T0 + 30_000).grants).toEqual([expect.objectContaining({ jobId: 'j1', backendId: 'o2' })]);
  });

  it('reports jobs whose backends are all unhealthy as blocked', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 1, ['m1'], { healthy: false })], now: T0 });
    submit(state, 'j1');
    expect(forecast(state, T0).order[0]).toMatchObject({ blocked: 'backends-down', etaMs: null, position: 0 });
  });
});

describe('circuit breaker', () => {
  it('cools a backend after N failures in the window, doubling up to the cap; a success resets', () => {
    const state = createSchedulerState({
      tiers: [tier('std')],
      backends: [ollama('o1', 1, ['m1'])],
      config: { breaker: { failureThreshold: 2, windowMs: 10_000, cooldownMs: 1_000, maxCooldownMs: 3_000 } },
      now: T0,
    });
    const backend = state.backends.o1!;
    recordBackendFailure(state, 'o1', T0);
    recordBackendFailure(state, 'o1', T0 + 20_000); // the first fell out of the window
    expect(backend.cooldownUntil).toBe(0);
    recordBackendFailure(state, 'o1', T0 + 21_000);
    expect(backend.cooldownUntil).toBe(T0 + 22_000);
    recordBackendFailure(state, 'o1', T0 + 30_000);
    recordBackendFailure(state, 'o1', T0 + 30_000);
    expect(backend.cooldownUntil).toBe(T0 + 32_000);
    recordBackendFailure(state, 'o1', T0 + 40_000);
    recordBackendFailure(state, 'o1', T0 + 40_000);
    expect(backend.cooldownUntil).toBe(T0 + 43_000); // 4 s capped at 3 s
    recordBackendSuccess(state, 'o1');
    recordBackendFailure(state, 'o1', T0 + 50_000);
    recordBackendFailure(state, 'o1', T0 + 50_000);
    expect(backend.cooldownUntil).toBe(T0 + 51_000);
  });

  it('counts a failed release against the backend and keeps its service time out of the stats', () => {
    const state = createSchedulerState({
      tiers: [tier('std')],
      backends: [ollama('o1', 1, ['m1'])],
      config: { breaker: { failureThreshold: 1, windowMs: 10_000, cooldownMs: 5_000, maxCooldownMs: 5_000 } },
      now: T0,
    });
    submit(state, 'j1');
    dispatch(state, T0);
    release(state, 'j1', T0 + 100, { ok: false });
    expect(state.backends.o1!.cooldownUntil).toBe(T0 + 5_100);
    expect(state.serviceStats).toEqual({});
  });
});

describe('priority and aging', () => {
  it('adds tier base, job priority, capped aging and boost', () => {
    const std = tier('std', { basePriority: 2 });
    const job = { jobId: 'j', teamId: 't', userId: 'u', tier: 'std', model: 'm1', priority: 1, boost: 3, enqueuedAt: T0, seq: 1, fallbackSince: null, avoid: [], batchable: false };
    const aging = { stepMs: 10_000, max: 4 };
    expect(effectivePriority(job, std, T0, aging)).toBe(6);
    expect(effectivePriority(job, std, T0 + 25_000, aging)).toBe(8);
    expect(effectivePriority(job, std, T0 + 10 * 60_000, aging)).toBe(10);
    // Aging stops at the highest native priority waiting, never below the job's own.
    expect(effectivePriority(job, std, T0 + 10 * 60_000, aging, 7)).toBe(7);
    expect(effectivePriority(job, std, T0 + 10 * 60_000, aging, 3)).toBe(6);
  });

  it('orders by priority, and an admin boost moves a job ahead', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 1, ['m1'])], now: T0 });
    submit(state, 'low');
    submit(state, 'high', { priority: 2 });
    submit(state, 'mid', { priority: 1 });
    expect(forecast(state, T0).order.map((p) => p.jobId)).toEqual(['high', 'mid', 'low']);
    setBoost(state, 'low', 5);
    expect(dispatch(state, T0).grants.map((g) => g.jobId)).toEqual(['low']);
  });

  it('lifts a starved low-priority job above a steady stream of higher-priority work', () => {
    const run = (agingMax: number) => {
      const state = createSchedulerState({
        tiers: [tier('std')],
        backends: [ollama('o1', 1, ['m1'])],
        config: { aging: { stepMs: 10_000, max: agingMax } },
        now: T0,
      });
      const sim = new Simulation(state, () => 5_000);
      // A fresh priority-3 job every 4 s keeps the single slot busy forever.
      sim.arrive(
        Array.from({ length: 150 }, (_, i) => ({
          at: T0 + i * 4_000,
          request: { jobId: `hot-${i}`, teamId: 'busy', userId: `u${i}`, tier: 'std', model: 'm1', priority: 3 },
        })),
      );
      sim.arrive([{ at: T0 + 1, request: { jobId: 'starved', teamId: 'quiet', userId: 'q', tier: 'std', model: 'm1', priority: 0 } }]);
      sim.run(T0 + 600_000);
      expect(sim.violations).toEqual([]);
      return sim.started.find((s) => s.jobId === 'starved')?.at;
    };
    expect(run(0)).toBeUndefined();
    const startedAt = run(5);
    expect(startedAt).toBeDefined();
    // Three steps (30 s) bring it level with fresh priority-3 jobs, where its team's lower usage wins
    // the next free slot.
    expect(startedAt! - T0).toBeGreaterThanOrEqual(30_000);
    expect(startedAt! - T0).toBeLessThanOrEqual(45_000);
  });
});

describe('placement', () => {
  it('prefers a backend with the model loaded, then the least loaded one', () => {
    const state = createSchedulerState({
      tiers: [tier('std')],
      backends: [ollama('a', 2, ['m1', 'm2'], { loadedModels: ['m2'] }), ollama('b', 2, ['m1', 'm2'], { loadedModels: ['m1'] })],
      now: T0,
    });
    submit(state, 'x1', { model: 'm1' });
    submit(state, 'y1', { model: 'm2' });
    submit(state, 'x2', { model: 'm1' });
    submit(state, 'y2', { model: 'm2' });
    const placed = Object.fromEntries(dispatch(state, T0).grants.map((g) => [g.jobId, g.backendId]));
    expect(placed).toEqual({ x1: 'b', y1: 'a', x2: 'b', y2: 'a' });

    const warm = createSchedulerState({
      tiers: [tier('std')],
      backends: [ollama('a', 4, ['m1'], { loadedModels: ['m1'] }), ollama('b', 4, ['m1'], { loadedModels: ['m1'] })],
      now: T0,
    });
    for (let i = 0; i < 4; i++) submit(warm, `j${i}`);
    const counts: Record<string, number> = {};
    for (const g of dispatch(warm, T0).grants) counts[g.backendId] = (counts[g.backendId] ?? 0) + 1;
    expect(counts).toEqual({ a: 2, b: 2 });
  });

  it('places a retried job on another backend than the one it failed on, when one is free', () => {
    const state = createSchedulerState({
      tiers: [tier('std')],
      backends: [ollama('a', 1, ['m1'], { loadedModels: ['m1'] }), ollama('b', 1, ['m1'])],
      now: T0,
    });
    enqueue(state, { jobId: 'retry', teamId: 't', userId: 'u', tier: 'std', model: 'm1', avoid: ['a'] }, T0);
    expect(dispatch(state, T0).grants[0]?.backendId).toBe('b');

    // When the avoided backend is the only one that serves it, the job runs there rather than wait forever.
    const single = createSchedulerState({ tiers: [tier('std')], backends: [ollama('a', 1, ['m1'])], now: T0 });
    enqueue(single, { jobId: 'retry', teamId: 't', userId: 'u', tier: 'std', model: 'm1', avoid: ['a'] }, T0);
    expect(dispatch(single, T0).grants[0]?.backendId).toBe('a');
  });

  it('keeps a retried job off the backend it failed on while another one is up, even busy; others still use it', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('a', 1, ['m1']), ollama('b', 1, ['m1'])], now: T0 });
    submit(state, 'busy-b');
    submit(state, 'busy-a');
    dispatch(state, T0);
    const onA = state.leases['busy-a']!.backendId === 'a' ? 'busy-a' : 'busy-b';
    const onB = onA === 'busy-a' ? 'busy-b' : 'busy-a';
    release(state, onA, T0 + 1_000, { ok: false });
    enqueue(state, { jobId: onA, teamId: 'team-a', userId: `user-${onA}`, tier: 'std', model: 'm1', avoid: ['a'] }, T0 + 1_000);
    submit(state, 'later', {}, T0 + 1_000);
    // A is free: the retried job waits for B, and the job behind it takes A.
    expect(dispatch(state, T0 + 1_000).grants.map((g) => [g.jobId, g.backendId])).toEqual([['later', 'a']]);
    expect(forecast(state, T0 + 1_000).order.map((entry) => entry.jobId)).toEqual([onA]);
    release(state, onB, T0 + 2_000);
    expect(dispatch(state, T0 + 2_000).grants.map((g) => [g.jobId, g.backendId])).toEqual([[onA, 'b']]);

    // With B down, A is its only way: it runs there.
    const down = createSchedulerState({ tiers: [tier('std')], backends: [ollama('a', 1, ['m1']), ollama('b', 1, ['m1'])], now: T0 });
    markBackendHealth(down, 'b', false);
    enqueue(down, { jobId: 'retry', teamId: 't', userId: 'u', tier: 'std', model: 'm1', avoid: ['a'] }, T0);
    expect(dispatch(down, T0).grants.map((g) => g.backendId)).toEqual(['a']);
  });

  it('loads a model where there is room before evicting another one', () => {
    const state = createSchedulerState({
      tiers: [tier('std')],
      backends: [ollama('a', 2, ['m1', 'm2'], { loadedModels: ['m2'] }), ollama('b', 2, ['m1', 'm2'], { maxLoadedModels: 2, loadedModels: ['m2'] })],
      now: T0,
    });
    submit(state, 'x', { model: 'm1' });
    expect(dispatch(state, T0).grants[0]?.backendId).toBe('b');
    expect(state.backends.b!.loadedModels).toEqual(['m1', 'm2']);
  });

  it('avoids model switches over a long mixed run when it can', () => {
    const state = createSchedulerState({
      tiers: [tier('std')],
      backends: [ollama('a', 2, ['m1', 'm2']), ollama('b', 2, ['m1', 'm2'])],
      now: T0,
    });
    const random = prng(7);
    const loads: Array<{ backend: string; model: string }> = [];
    const sim = new Simulation(state, (grant) => {
      loads.push({ backend: grant.backendId, model: grant.model });
      return 2_000 + Math.floor(random() * 2_000);
    });
    sim.arrive(
      Array.from({ length: 200 }, (_, i) => ({
        at: T0 + i * 1_000,
        request: { jobId: `j${i}`, teamId: 't', userId: `u${i}`, tier: 'std', model: i % 2 === 0 ? 'm1' : 'm2' },
      })),
    );
    sim.run();
    expect(sim.violations).toEqual([]);
    let switches = 0;
    const last: Record<string, string> = {};
    for (const { backend, model } of loads) {
      if (last[backend] !== undefined && last[backend] !== model) switches++;
      last[backend] = model;
    }
    // Each backend settles on one model; a switch happens only when the other backend is full.
    expect(switches).toBeLessThan(loads.length * 0.1);
  });
});

describe('leases', () => {
  it('release is idempotent and feeds the service-time mean', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 1, ['m1'])], now: T0 });
    submit(state, 'j1');
    dispatch(state, T0);
    expect(release(state, 'j1', T0 + 4_000)?.backendId).toBe('o1');
    expect(release(state, 'j1', T0 + 5_000)).toBeNull();
    expect(state.backends.o1!.running).toBe(0);
    expect(state.serviceStats.m1).toEqual({ meanMs: 4_000, samples: 1 });
  });

  it('sets no timer for a lease however long it runs: a long job must not wake the scheduler', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 1, ['m1'])], now: T0 });
    submit(state, 'long');
    submit(state, 'behind');
    dispatch(state, T0);
    expect(nextWakeAt(state, T0 + 10 * 60_000)).toBeNull();
  });

  it('removes a cancelled waiting job', () => {
    const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 1, ['m1'])], now: T0 });
    submit(state, 'j1');
    submit(state, 'j2');
    expect(removeWaiting(state, 'j1')?.jobId).toBe('j1');
    expect(removeWaiting(state, 'j1')).toBeNull();
    expect(dispatch(state, T0).grants.map((g) => g.jobId)).toEqual(['j2']);
  });
});

describe('tier changes', () => {
  it('a deleted tier stays known while its jobs wait or run, and goes when they are done', () => {
    const state = createSchedulerState({ tiers: [tier('std'), tier('old')], backends: [ollama('o1', 1, ['m1'])], now: T0 });
    submit(state, 'running', { tier: 'old' });
    dispatch(state, T0);
    submit(state, 'waiting', { tier: 'old' });
    setTiers(state, [tier('std', { weight: 2 })]);
    expect(Object.keys(state.tiers).sort()).toEqual(['old', 'std']);
    expect(state.tiers.std!.weight).toBe(2);
    release(state, 'running', T0 + 1_000);
    // The waiting job of the deleted tier is still dispatched by the policy it was admitted with.
    expect(dispatch(state, T0 + 1_000).grants.map((g) => g.jobId)).toEqual(['waiting']);
    release(state, 'waiting', T0 + 2_000);
    setTiers(state, [tier('std')]);
    expect(Object.keys(state.tiers)).toEqual(['std']);
  });
});

describe('serialisable state', () => {
  it('decides the same after a JSON round trip (continue-as-new, replay)', () => {
    const build = () => {
      const state = createSchedulerState({
        tiers: [tier('std', { maxRunningPerUser: 2 }), tier('pro', { weight: 3, basePriority: 1, minShare: 0.25 })],
        backends: [ollama('a', 3, ['m1', 'm2']), ollama('b', 2, ['m2'])],
        now: T0,
      });
      const random = prng(3);
      for (let i = 0; i < 60; i++) {
        submit(state, `j${i}`, { team: `t${i % 5}`, user: `u${i % 9}`, tier: i % 3 ? 'std' : 'pro', model: random() < 0.5 ? 'm1' : 'm2', priority: Math.floor(random() * 3) }, T0 + i * 100);
      }
      return state;
    };
    const direct = build();
    const copied = JSON.parse(JSON.stringify(build())) as SchedulerState;
    expect(dispatch(copied, T0 + 10_000)).toEqual(dispatch(direct, T0 + 10_000));
    expect(forecast(copied, T0 + 10_000)).toEqual(forecast(direct, T0 + 10_000));
    expect(JSON.parse(JSON.stringify(direct))).toEqual(direct);
  });

  it('publishes a compact snapshot per pool', () => {
    const state = createSchedulerState({
      tiers: [tier('std'), tier('ent', { poolPreference: ['dedicated'] })],
      backends: [ollama('a', 1, ['m1']), ollama('d', 1, ['m1'], { pool: 'dedicated' })],
      now: T0,
    });
    for (let i = 0; i < 3; i++) submit(state, `s${i}`, { team: 'ts' });
    for (let i = 0; i < 2; i++) submit(state, `e${i}`, { team: 'te', tier: 'ent' });
    dispatch(state, T0);
    const pools = snapshots(state, forecast(state, T0));
    expect(pools.local).toMatchObject({ slots: 1, upSlots: 1, running: 1, waiting: 2, jobs: ['s1', 's2'], teams: { ts: { waiting: 2, running: 1 } } });
    expect(pools.dedicated).toMatchObject({ running: 1, waiting: 1, jobs: ['e1'], tiers: { ent: { waiting: 1, running: 1 } } });
    expect(pools.local!.positions.length).toBe(2);
  });
});
