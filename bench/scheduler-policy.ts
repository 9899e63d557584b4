import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  createSchedulerState,
  dispatch,
  enqueue,
  forecast,
  indexWaiting,
  recordServiceTime,
  release,
  snapshots,
  type SchedulerState,
} from '../workflows/scheduler/core';
import { ollama, prng, tier } from '../workflows/scheduler/core/simulation';

/**
 * Cost of the scheduler's decisions at the sizes one scheduler workflow must handle: N waiting
 * jobs, U users, T teams, S local slots. Times one event the way the workflow will handle it
 * (release one lease, dispatch, forecast positions, build the pool snapshots) and each part alone.
 *
 *   npx tsx bench/scheduler-policy.ts [--jobs 5000] [--users 200] [--teams 20] [--slots 8] [--iterations 200]
 */

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '5000' },
    users: { type: 'string', default: '200' },
    teams: { type: 'string', default: '20' },
    slots: { type: 'string', default: '8' },
    iterations: { type: 'string', default: '200' },
  },
});
const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)])) as Record<keyof typeof values, number>;

const T0 = 1_700_000_000_000;
const models = ['qwen2.5-coder:7b', 'llama3.1:8b', 'deepseek-coder:6.7b'];

function build(): SchedulerState {
  const random = prng(42);
  const state = createSchedulerState({
    tiers: [
      tier('free', { weight: 1, basePriority: 0, maxRunningPerUser: 1, poolPreference: ['local'] }),
      tier('premium', { weight: 3, basePriority: 1, maxRunningPerUser: 2, cloudFallback: false }),
      tier('enterprise', { weight: 5, basePriority: 2, maxRunningPerUser: 4, minShare: 0.25 }),
    ],
    // Two backends sharing the slots; both serve every model, one model resident each.
    backends: [ollama('gpu-a', Math.ceil(config.slots / 2), models), ollama('gpu-b', Math.floor(config.slots / 2), models)],
    now: T0,
  });
  for (const model of models) for (const backend of ['gpu-a', 'gpu-b']) recordServiceTime(state, model, backend, 20_000 + random() * 20_000);
  const tierOf = (team: number) => (team % 10 === 0 ? 'enterprise' : team % 3 === 0 ? 'premium' : 'free');
  // One index for the whole build, as the workflow builds one per signal: a scan per enqueue is quadratic.
  const index = indexWaiting(state);
  for (let i = 0; i < config.jobs + config.slots; i++) {
    const user = Math.floor(random() * config.users);
    const team = user % config.teams;
    const result = enqueue(
      state,
      {
        jobId: `job-${i}`,
        teamId: `team-${team}`,
        userId: `user-${user}`,
        tier: tierOf(team),
        model: models[Math.floor(random() * models.length)]!,
        priority: Math.floor(random() * 3),
      },
      T0 + i * 50,
      index,
    );
    if (!result.ok) throw new Error(result.reason);
  }
  return state;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

// Wall time and this process's CPU time per iteration: on a shared, loaded machine the wall time
// includes waiting for a core, the CPU time does not.
function measure(name: string, run: (iteration: number) => void) {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < config.iterations; i++) {
    const startedCpu = process.cpuUsage();
    const started = performance.now();
    run(i);
    wall.push(performance.now() - started);
    const used = process.cpuUsage(startedCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const row = { name, p50: percentile(wall, 50), p99: percentile(wall, 99), cpuP50: percentile(cpu, 50), cpuP99: percentile(cpu, 99) };
  const ms = (value: number) => value.toFixed(2).padStart(7);
  console.log(`${name.padEnd(40)} wall p50 ${ms(row.p50)} p99 ${ms(row.p99)} ms | cpu p50 ${ms(row.cpuP50)} p99 ${ms(row.cpuP99)} ms`);
  return row;
}

const base = build();
const now = T0 + (config.jobs + config.slots) * 50;
dispatch(base, now); // fill the slots: the steady state is "all busy, N waiting"
console.log(`load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);
console.log(
  `scheduler policy: ${base.waiting.length} waiting, ${Object.keys(base.leases).length} running, ${config.users} users, ${config.teams} teams, ${config.slots} slots, ${config.iterations} iterations (node ${process.version})`,
);

// Warm up the JIT the way a long-lived worker would be.
for (let i = 0; i < 20; i++) forecast(base, now);

const forecastRow = measure('forecast (positions + ETA of every job)', () => void forecast(base, now));
measure('snapshots per pool (from a forecast)', () => void snapshots(base, forecast(base, now)));
measure('dispatch, all slots busy (no grant)', () => void dispatch(base, now));

// One release → dispatch → forecast cycle per iteration, on a state that keeps evolving.
const live = structuredClone(base);
let clock = now;
const eventRow = measure('event: release + dispatch + forecast', () => {
  clock += 2_500;
  const lease = Object.values(live.leases)[0]!;
  release(live, lease.leaseId, clock);
  const { grants } = dispatch(live, clock);
  if (grants.length !== 1) throw new Error(`expected one grant, got ${grants.length}`);
  forecast(live, clock);
});
const dispatchRow = measure('event: release + dispatch only', () => {
  clock += 2_500;
  const lease = Object.values(live.leases)[0]!;
  release(live, lease.leaseId, clock);
  dispatch(live, clock);
});

const serialised = JSON.stringify(base).length;
console.log(`state size as JSON: ${(serialised / 1024).toFixed(0)} KiB`);
console.log(
  JSON.stringify({ jobs: config.jobs, forecast: forecastRow, event: eventRow, dispatch: dispatchRow }),
);
