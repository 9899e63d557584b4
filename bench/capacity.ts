import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../scripts/lib/paths';
import { createSchedulerState } from '../workflows/scheduler/core';
import { ollama, prng, Simulation, tier, type Arrival } from '../workflows/scheduler/core/simulation';
import { parseBenchArgs } from './lib/args';
import { percentile, round } from './lib/stats';
import { describeMachine } from './suite/machine';

/**
 * The capacity plan's check (docs/capacity.md): the scheduler's own rules, in its discrete-event
 * simulation, on the plan's workload for one peak hour — `--active` users submitting `--per-hour`
 * jobs each (Poisson), on `--hosts` Ollama hosts of `--slots` slots — with each job's slot time
 * from its token lengths at the stated speeds. Run once at the planned fleet and once with
 * `--short` per cent of the hosts missing, to show what breaks first and how fast. Reports
 * utilisation, waits, the largest backlog, grants per second and the scheduler's CPU per event.
 *
 *   npm run bench:capacity -- [--active 20000] [--per-hour 3] [--hosts 105] [--slots 4] [--short 30]
 */

const { config } = parseBenchArgs({
  active: 20_000,
  'per-hour': 3,
  hosts: 105,
  slots: 4,
  teams: 2_000,
  'prompt-tokens': 1_500,
  'output-tokens': 400,
  'review-tokens': 150,
  'prefill-tps': 1_500,
  'stream-tps': 30,
  short: 30,
  minutes: 60,
  seed: 42,
});
const MODEL = 'qwen2.5-coder:7b';
const T0 = 1_700_000_000_000;

/** A job's slot time: prompt prefill, the answer, then the review reading the answer and writing its own. */
function slotMs(random: () => number): number {
  // Answers vary: half to one and a half times the stated length.
  const output = config['output-tokens'] * (0.5 + random());
  const prefill = (config['prompt-tokens'] + config['output-tokens']) / config['prefill-tps'];
  return Math.round((prefill + (output + config['review-tokens']) / config['stream-tps']) * 1000);
}

function run(hosts: number) {
  const random = prng(config.seed);
  const backends = Array.from({ length: hosts }, (_, i) => ollama(`gpu-${i}`, config.slots, [MODEL], { loadedModels: [MODEL] }));
  const state = createSchedulerState({
    tiers: [tier('free'), tier('premium', { weight: 3, basePriority: 1 })],
    backends,
    now: T0,
  });
  const perSecond = (config.active * config['per-hour']) / 3600;
  const horizon = config.minutes * 60_000;
  const arrivals: Arrival[] = [];
  for (let at = T0, i = 0; ; i++) {
    at += (-Math.log(1 - random()) / perSecond) * 1000;
    if (at > T0 + horizon) break;
    const user = Math.floor(random() * config.active);
    const team = user % config.teams;
    arrivals.push({ at: Math.round(at), request: { jobId: `j${i}`, teamId: `t${team}`, userId: `u${user}`, tier: team % 5 === 0 ? 'premium' : 'free', model: MODEL } });
  }
  const slotTimes = new Map<string, number>();
  const sim = new Simulation(state, (grant) => {
    const ms = slotMs(random);
    slotTimes.set(grant.jobId, ms);
    return ms;
  });
  sim.arrive(arrivals);
  // Sample the backlog each simulated minute.
  let largestBacklog = 0;
  const backlogByMinute: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let minute = 1; minute <= config.minutes; minute++) {
    sim.run(T0 + minute * 60_000);
    largestBacklog = Math.max(largestBacklog, state.waiting.length);
    backlogByMinute.push(state.waiting.length);
  }
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const arrivedAt = new Map(arrivals.map((arrival) => [arrival.request.jobId, arrival.at]));
  const waits = sim.started.map((start) => (start.at - arrivedAt.get(start.jobId)!) / 1000);
  const busy = sim.started.reduce((sum, start) => sum + Math.max(0, Math.min(start.at + start.serviceMs, T0 + horizon) - start.at), 0);
  // Events the scheduler would handle: each arrival and each release is one dispatch.
  const events = arrivals.length + sim.started.length;
  return {
    hosts,
    slots: hosts * config.slots,
    jobsPerSecond: round(perSecond, 2),
    arrived: arrivals.length,
    started: sim.started.length,
    meanSlotSeconds: round([...slotTimes.values()].reduce((a, b) => a + b, 0) / slotTimes.size / 1000, 2),
    offeredLoad: round((perSecond * ([...slotTimes.values()].reduce((a, b) => a + b, 0) / slotTimes.size / 1000)) / (hosts * config.slots), 3),
    utilization: round(busy / (hosts * config.slots * horizon), 3),
    waitSeconds: { p50: round(percentile(waits, 50)), p95: round(percentile(waits, 95)), p99: round(percentile(waits, 99)), max: round(Math.max(...waits)) },
    largestBacklog,
    backlogAtEnd: state.waiting.length,
    backlogGrowthPerMinute: round((backlogByMinute.at(-1)! - backlogByMinute[Math.floor(backlogByMinute.length / 2)]!) / (backlogByMinute.length / 2), 1),
    workConservationViolations: sim.violations.length,
    schedulerCpuMsPerEvent: round(cpuMs / events, 3),
  };
}

const started = Date.now();
const planned = run(config.hosts);
const shortHosts = Math.round(config.hosts * (1 - config.short / 100));
const short = run(shortHosts);
const report = {
  benchmark: 'capacity',
  date: new Date().toISOString(),
  machine: describeMachine(),
  seconds: Math.round((Date.now() - started) / 1000),
  settings: config,
  definitions: {
    offeredLoad: 'arrival rate × mean slot time ÷ slots',
    utilization: 'slot-time busy within the simulated hour ÷ slot-time available',
    waitSeconds: 'arrival → grant, of the jobs started within the hour',
    backlogGrowthPerMinute: 'waiting jobs added per minute over the second half of the hour',
    schedulerCpuMsPerEvent: 'CPU of this process per arrival or release (one dispatch each), the scheduler core alone',
  },
  planned,
  short,
};
mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(path.join(repoRoot, 'bench/results/capacity.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify({ planned, short }, null, 2));
console.log('wrote bench/results/capacity.json');
