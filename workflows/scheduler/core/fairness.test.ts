import { describe, expect, it } from 'vitest';
import { createSchedulerState, type EnqueueRequest, type TierPolicy } from '.';
import { ollama, prng, Simulation, tier, type Arrival } from './simulation';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

/** Each team keeps `backlog` jobs queued at all times (a new one arrives as one starts). */
function saturate(
  tiers: TierPolicy[],
  teams: Array<{ team: string; tier: string; users: number; serviceMs: [number, number] }>,
  slots: number,
  durationMs: number,
  options: { backlog?: number; seed?: number; backends?: number } = {},
) {
  const backlog = options.backlog ?? 20;
  const backendCount = options.backends ?? 1;
  const state = createSchedulerState({
    tiers,
    backends: Array.from({ length: backendCount }, (_, i) => ollama(`o${i}`, slots / backendCount, ['m1'])),
    now: T0,
  });
  const random = prng(options.seed ?? 1);
  const serviceOf = new Map<string, number>();
  let counter = 0;
  const request = (team: (typeof teams)[number]): EnqueueRequest => {
    const jobId = `${team.team}-${counter++}`;
    const [low, high] = team.serviceMs;
    serviceOf.set(jobId, low + Math.floor(random() * (high - low + 1)));
    return { jobId, teamId: team.team, userId: `${team.team}-u${counter % team.users}`, tier: team.tier, model: 'm1' };
  };
  const sim = new Simulation(state, (grant) => serviceOf.get(grant.jobId)!);
  const initial: Arrival[] = [];
  for (const team of teams) for (let i = 0; i < backlog; i++) initial.push({ at: T0, request: request(team) });
  sim.arrive(initial);
  // Refill: run in short rounds, topping every team back up to its backlog.
  for (let at = T0; at < T0 + durationMs; at += 5_000) {
    sim.run(at);
    const queued = new Map<string, number>();
    for (const job of state.waiting) queued.set(job.teamId, (queued.get(job.teamId) ?? 0) + 1);
    const refill: Arrival[] = [];
    for (const team of teams) {
      for (let n = queued.get(team.team) ?? 0; n < backlog; n++) refill.push({ at: at + 1, request: request(team) });
    }
    sim.arrive(refill);
  }
  return { sim, state };
}

function shares(byTeam: Record<string, number>): Record<string, number> {
  const total = Object.values(byTeam).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(byTeam).map(([team, value]) => [team, value / total]));
}

describe('weighted fair share under contention', () => {
  for (const slots of [1, 4]) {
    it(`two equal-weight teams split ${slots} slot(s) 1:1 within ±10%`, () => {
      const { sim } = saturate(
        [tier('std')],
        [
          { team: 'a', tier: 'std', users: 5, serviceMs: [2_000, 6_000] },
          { team: 'b', tier: 'std', users: 5, serviceMs: [2_000, 6_000] },
        ],
        slots,
        HOUR,
        { seed: slots },
      );
      expect(sim.violations).toEqual([]);
      const time = shares(sim.slotTime(T0 + 60_000, T0 + HOUR));
      expect(time.a! / time.b!).toBeGreaterThan(0.9);
      expect(time.a! / time.b!).toBeLessThan(1.1);
    });

    it(`weights 3:1 give 3:1 of ${slots} slot(s) within ±10%`, () => {
      const { sim } = saturate(
        [tier('premium', { weight: 3 }), tier('free', { weight: 1 })],
        [
          { team: 'p', tier: 'premium', users: 5, serviceMs: [2_000, 6_000] },
          { team: 'f', tier: 'free', users: 5, serviceMs: [2_000, 6_000] },
        ],
        slots,
        HOUR,
        { seed: 10 + slots, backends: slots === 4 ? 2 : 1 },
      );
      expect(sim.violations).toEqual([]);
      const time = sim.slotTime(T0 + 60_000, T0 + HOUR);
      const ratio = time.p! / time.f!;
      expect(ratio).toBeGreaterThan(2.7);
      expect(ratio).toBeLessThan(3.3);
      const starts = { p: 0, f: 0 };
      for (const s of sim.started) starts[s.teamId as 'p' | 'f']++;
      expect(starts.p / starts.f).toBeCloseTo(3, 0);
    });
  }

  it('shares count per grant: with a fixed model cost, long jobs are not charged more (documented trade-off)', () => {
    const { sim } = saturate(
      [tier('std')],
      [
        { team: 'long', tier: 'std', users: 5, serviceMs: [8_000, 8_000] },
        { team: 'short', tier: 'std', users: 5, serviceMs: [2_000, 2_000] },
      ],
      1,
      HOUR / 2,
    );
    const starts = { long: 0, short: 0 };
    for (const s of sim.started) starts[s.teamId as 'long' | 'short']++;
    expect(Math.abs(starts.long - starts.short)).toBeLessThanOrEqual(1);
  });

  it('a guaranteed minimum share holds while a heavy, higher-priority team bursts, and is exceeded when capacity is idle', () => {
    const tiers = [tier('heavy', { weight: 4, basePriority: 5 }), tier('guaranteed', { weight: 1, minShare: 0.25 })];
    const { sim, state } = saturate(
      tiers,
      [
        { team: 'h', tier: 'heavy', users: 20, serviceMs: [3_000, 9_000] },
        { team: 'g', tier: 'guaranteed', users: 4, serviceMs: [3_000, 9_000] },
      ],
      8,
      HOUR / 2,
      { backends: 2 },
    );
    expect(sim.violations).toEqual([]);
    const time = shares(sim.slotTime(T0 + 60_000, T0 + HOUR / 2));
    // 25% of 8 slots = 2; without the guarantee the priority-5 team would take every slot.
    expect(time.g!).toBeGreaterThanOrEqual(0.24);
    expect(time.g!).toBeLessThan(0.3);
    void state;

    const idle = saturate(tiers, [{ team: 'g', tier: 'guaranteed', users: 8, serviceMs: [3_000, 9_000] }], 8, 10 * 60_000, { backends: 2 });
    const busy = idle.sim.slotTime(T0 + 60_000, T0 + 10 * 60_000).g!;
    expect(busy / (8 * (9 * 60_000))).toBeGreaterThan(0.95);
  });
});
