import { describe, expect, it } from 'vitest';
import { createResourceState, decide, resourceStatus } from './decide';
import type { PoolLoad, ResourceConfig, ResourceSample } from './types';

const config: ResourceConfig = {
  sampleIntervalMs: 5_000,
  windowSize: 4,
  probeFailuresToDown: 2,
  preferCloudAfterWaitMs: 60_000,
  autoScaling: {
    minInstances: 2,
    maxInstances: 10,
    scaleUpQueueDepth: 50,
    scaleDownQueueDepth: 5,
    scaleUpCooldownMs: 120_000,
    scaleDownCooldownMs: 600_000,
  },
};

const load = (overrides: Partial<PoolLoad> = {}): PoolLoad => ({
  pool: 'local',
  instances: 4,
  slots: 8,
  upSlots: 8,
  busy: 8,
  queueDepth: 0,
  oldestWaitMs: 0,
  expectedWaitMs: 0,
  ...overrides,
});

const sample = (overrides: Partial<ResourceSample> = {}): ResourceSample => ({
  pools: [load()],
  backends: [],
  pressuredPools: [],
  probes: [],
  ...overrides,
});

describe('the resource manager’s window', () => {
  it('keeps at most windowSize samples per pool, and forgets pools that are gone', () => {
    const state = createResourceState();
    for (let i = 0; i < 10; i++) decide(state, sample({ pools: [load({ queueDepth: i }), load({ pool: 'gpu' })] }), config, i * 1000);
    expect(state.window.local!.map((s) => s.queueDepth)).toEqual([6, 7, 8, 9]);
    expect(state.window.local!.map((s) => s.at)).toEqual([6000, 7000, 8000, 9000]);
    decide(state, sample({ pools: [load()] }), config, 10_000);
    expect(Object.keys(state.window)).toEqual(['local']);
    expect(state.lastScale.gpu).toBeUndefined();
  });
});

describe('health from probes', () => {
  const backends = [{ id: 'a', pool: 'local', healthy: true }];

  it('marks a backend down after consecutive failed probes only, and up on the first good one', () => {
    const state = createResourceState();
    const fail = { backendId: 'a', ok: false, latencyMs: 3, error: 'connection refused' };
    expect(decide(state, sample({ backends, probes: [fail] }), config, 0).health).toEqual([]);
    expect(decide(state, sample({ backends, probes: [fail] }), config, 1).health).toEqual([{ backendId: 'a', healthy: false }]);
    expect(state.health.a).toMatchObject({ healthy: false, failures: 2, error: 'connection refused' });

    const down = [{ id: 'a', pool: 'local', healthy: false }];
    expect(decide(state, sample({ backends: down, probes: [fail] }), config, 2).health).toEqual([]);
    expect(decide(state, sample({ backends: down, probes: [{ backendId: 'a', ok: true, latencyMs: 2 }] }), config, 3).health).toEqual([
      { backendId: 'a', healthy: true },
    ]);
  });

  it('a failure between successes does not count towards the next', () => {
    const state = createResourceState();
    const probe = (ok: boolean) => ({ backendId: 'a', ok, latencyMs: 1 });
    for (const [i, ok] of [false, true, false, true, false].entries()) {
      expect(decide(state, sample({ backends, probes: [probe(ok)] }), config, i).health).toEqual([]);
    }
  });

  it('repeats a verdict the scheduler lost, and leaves backends no probe reached alone', () => {
    const state = createResourceState();
    const fail = { backendId: 'a', ok: false, latencyMs: 1 };
    decide(state, sample({ backends, probes: [fail] }), config, 0);
    decide(state, sample({ backends, probes: [fail] }), config, 1);
    // The scheduler restarted from its configuration and says healthy again: tell it again.
    expect(decide(state, sample({ backends, probes: [fail] }), config, 2).health).toEqual([{ backendId: 'a', healthy: false }]);
    const other = [{ id: 'b', pool: 'local', healthy: false }];
    expect(decide(state, sample({ backends: other, probes: [] }), config, 3).health).toEqual([]);
    expect(state.health).toEqual({});
  });
});

describe('routing', () => {
  it('pressures a pool while the median wait over the window is past the threshold', () => {
    const state = createResourceState();
    const wait = (expectedWaitMs: number, pressuredPools: string[] = []) =>
      decide(state, sample({ pools: [load({ expectedWaitMs })], pressuredPools }), config, 0).routing;
    expect(wait(1_000)).toBeNull();
    expect(wait(90_000)).toBeNull();
    expect(wait(90_000)).toEqual(['local']);
    // The scheduler has it now; a short wait in a window of long ones changes nothing.
    expect(wait(90_000, ['local'])).toBeNull();
    expect(wait(1_000, ['local'])).toBeNull();
    expect(wait(1_000, ['local'])).toEqual([]);
    expect(state.pressuredPools).toEqual([]);
  });

  it('counts what the queue has already waited when the forecast runs short', () => {
    const state = createResourceState();
    // Overdue leases make the forecast say "any moment now" while the oldest job has waited 90 s.
    expect(decide(state, sample({ pools: [load({ oldestWaitMs: 90_000, expectedWaitMs: 0 })] }), config, 0).routing).toEqual(['local']);
  });
});

describe('scale recommendations', () => {
  const run = (loads: Partial<PoolLoad>[], start = 1_000_000, step = 5_000) => {
    const state = createResourceState();
    const made = loads.map((l, i) => decide(state, sample({ pools: [load(l)] }), config, start + i * step).recommendations);
    return { state, made };
  };

  it('scales out on a deep queue once the window is full, to the demand, within the maximum', () => {
    const { made } = run(Array.from({ length: 4 }, () => ({ queueDepth: 60 })));
    expect(made.slice(0, 3).flat()).toEqual([]);
    // 8 busy + 60 waiting at 2 slots per instance: 34 instances wanted, 10 allowed.
    expect(made[3]).toEqual([expect.objectContaining({ pool: 'local', action: 'scale_out', currentInstances: 4, targetInstances: 10, queueDepth: 60 })]);
  });

  it('does not scale out again within the scale-up cooldown', () => {
    const deep = Array.from({ length: 4 + 24 }, () => ({ queueDepth: 60 }));
    const { made } = run(deep);
    const outs = made.map((r, i) => (r.length ? i : -1)).filter((i) => i >= 0);
    // At 5 s per sample, the 120 s cooldown lets the next one through 24 samples later.
    expect(outs).toEqual([3, 27]);
  });

  it('ignores a single spike: the median decides', () => {
    const { made } = run([{ queueDepth: 0 }, { queueDepth: 500 }, { queueDepth: 0 }, { queueDepth: 0 }]);
    expect(made.flat()).toEqual([]);
  });

  it('scales in by one after a quiet window, only past the scale-down cooldown, never below the minimum', () => {
    const quiet = { queueDepth: 1, busy: 2 };
    const early = run(Array.from({ length: 4 }, () => quiet));
    expect(early.made.flat()).toEqual([]);
    // The cooldown counts from when the pool was first seen: 600 s at 5 s a sample.
    const later = run(Array.from({ length: 122 }, () => quiet));
    const ins = later.made.flat();
    expect(ins[0]).toMatchObject({ action: 'scale_in', currentInstances: 4, targetInstances: 3 });
    expect(ins).toHaveLength(1);

    const atMinimum = run(Array.from({ length: 122 }, () => ({ ...quiet, instances: 2, slots: 4 })));
    expect(atMinimum.made.flat()).toEqual([]);
  });

  it('does not scale in when the busy slots would not fit in one instance less', () => {
    const { made } = run(Array.from({ length: 122 }, () => ({ queueDepth: 0, busy: 7 })));
    expect(made.flat()).toEqual([]);
  });

  it('brings a pool below the minimum up to it, and leaves cloud-only pools alone', () => {
    const { made } = run(Array.from({ length: 4 }, () => ({ instances: 1, slots: 2, busy: 0 })));
    expect(made[3]).toEqual([expect.objectContaining({ action: 'scale_out', targetInstances: 2 })]);
    const cloud = run(Array.from({ length: 4 }, () => ({ pool: 'cloud', instances: 0, queueDepth: 500 })));
    expect(cloud.made.flat()).toEqual([]);
  });

  it('shows the latest recommendation and pressure per pool in the status', () => {
    const { state } = run(Array.from({ length: 4 }, () => ({ queueDepth: 60, expectedWaitMs: 90_000 })));
    const status = resourceStatus(state, config);
    expect(status.pools).toEqual([
      expect.objectContaining({ pool: 'local', queueDepth: 60, pressured: true, medianWaitMs: 90_000, recommendation: expect.objectContaining({ targetInstances: 10 }) }),
    ]);
  });
});
