import { describe, expect, it } from 'vitest';
import {
  createSchedulerState,
  decodeTeamQueue,
  dispatch,
  enqueue,
  forecast,
  queueSnapshot,
  requireTeamIds,
  snapshotForTeams,
  teamJobIds,
  type Forecast,
  type QueueSnapshot,
  type SchedulerState,
  type WaitingJobView,
} from '.';
import { cloud, fill, ollama, tier } from './simulation';

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

    const views = decodeAll(snapshot);
    const waiting = Object.values(views).flatMap((t) => t.waiting);
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

    const running = Object.entries(views).flatMap(([teamId, t]) => t.running.map((r) => ({ teamId, ...r })));
    expect(running.map((r) => r.jobId).sort()).toEqual(Object.keys(state.leases).sort());
    expect(running.every((r) => r.since === T0 + 100)).toBe(true);
  });

  it('keeps each team’s jobs under that team only', () => {
    const snapshot = queueSnapshot(queued(), forecast(queued(), T0 + 200), 1);
    for (const [teamId, view] of Object.entries(decodeAll(snapshot))) {
      for (const job of [...view.waiting, ...view.running]) expect(job.jobId[0]).toBe(teamId[1]);
      expect(teamJobIds(snapshot, teamId)).toEqual([...view.waiting, ...view.running].map((job) => job.jobId));
    }
  });

  it('decodes, after JSON, to every waiting job as the forecast has it (it crosses a Temporal query)', () => {
    // Four teams, several users, two models of which one only the cloud serves and one none:
    // blocked jobs, two pools, positions interleaved across teams.
    const state = createSchedulerState({
      tiers: [tier('gold', { weight: 2 }), tier('std', { poolPreference: ['local', 'cloud'] })],
      backends: [ollama('o1', 2, ['m1']), ollama('o2', 1, ['m1']), cloud('c1', 2, ['m1', 'm2'])],
      now: T0,
    });
    fill(state, 300, 11, T0, ['m1', 'm2', 'm3']);
    dispatch(state, T0 + 400);
    const planned = forecast(state, T0 + 900);
    const wire = JSON.parse(JSON.stringify(queueSnapshot(state, planned, 3))) as QueueSnapshot;

    const expected = waitingViews(state, planned);
    const decoded = decodeAll(wire);
    expect(Object.keys(decoded).sort()).toEqual(Object.keys(expected).sort());
    for (const [teamId, views] of Object.entries(expected)) expect(decoded[teamId]!.waiting).toEqual(views);
    expect(Object.values(decoded).some((view) => view.waiting.some((job) => job.blocked !== null))).toBe(true);
    expect(new Set(Object.values(decoded).flatMap((view) => view.waiting.map((job) => job.pool)))).toEqual(new Set(['local', 'cloud']));
  });

  it('hands a caller the pools and the teams it asked for, never another team’s part', () => {
    const snapshot = queueSnapshot(queued(), forecast(queued(), T0 + 200), 1);
    const forA = snapshotForTeams(snapshot, ['ta', 'no-jobs', 'constructor', '__proto__']);
    expect(Object.keys(forA.teams)).toEqual(['ta']);
    expect(forA.teams.ta).toEqual(snapshot.teams.ta);
    expect(forA.pools).toEqual(snapshot.pools);
    expect([forA.version, forA.at]).toEqual([snapshot.version, snapshot.at]);
    // (c1 is also the cloud backend's id, which pools name.)
    for (const secret of ['tb', 'tc', 'b1', 'b2', 'b3', 'c2', 'ub', 'ub2', 'uc']) expect(JSON.stringify(forA)).not.toContain(`"${secret}"`);
    expect(decodeTeamQueue(forA, 'tb')).toEqual({ waiting: [], running: [] });
    expect(decodeTeamQueue(forA, 'constructor')).toEqual({ waiting: [], running: [] });
    expect(snapshotForTeams(snapshot, []).teams).toEqual({});
  });

  it('refuses a team list that is not one', () => {
    expect(requireTeamIds(['ta'])).toEqual(['ta']);
    for (const bad of [undefined, null, 'ta', [1], { ta: true }]) expect(() => requireTeamIds(bad)).toThrow(/list of team ids/);
  });
});

function decodeAll(snapshot: QueueSnapshot) {
  return Object.fromEntries(Object.keys(snapshot.teams).map((teamId) => [teamId, decodeTeamQueue(snapshot, teamId)]));
}

/** The waiting jobs per team as views, straight from the forecast: what the wire form must carry. */
function waitingViews(state: SchedulerState, planned: Forecast): Record<string, WaitingJobView[]> {
  const byTeam: Record<string, WaitingJobView[]> = {};
  const inPool = new Map<string, number>();
  for (const entry of planned.order) {
    const pool = entry.pool ?? state.tiers[entry.tier]!.poolPreference[0]!;
    const poolPosition = inPool.get(pool) ?? 0;
    inPool.set(pool, poolPosition + 1);
    const job = state.waiting.find((waiting) => waiting.jobId === entry.jobId)!;
    (byTeam[entry.teamId] ??= []).push({
      jobId: entry.jobId,
      model: entry.model,
      pool,
      position: entry.position,
      poolPosition,
      etaMs: entry.etaMs,
      blocked: entry.blocked,
      since: job.enqueuedAt,
    });
  }
  return byTeam;
}
