import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { repoRoot } from '../scripts/lib/paths';
import type { QueueJobInfo } from '../server/realtime/events';
import { teamEvent, type JobDetails } from '../server/services/queue-view';
import { createSchedulerState, dispatch, enqueue, forecast, queueSnapshot, recordServiceTime, snapshotForTeams, type SchedulerState } from '../workflows/scheduler/core';
import { ollama, prng, tier } from '../workflows/scheduler/core/simulation';
import { parseBenchArgs } from './lib/args';
import { percentile, round } from './lib/stats';
import { describeMachine } from './suite/machine';

/**
 * What one queue snapshot costs from the scheduler to the web's team events, in one process: the
 * forecast, the snapshot, the answer to a broadcaster watching every team (`snapshotForTeams`, then
 * the payload converter's encode, as the worker answers the query), its decode (the web reading
 * the answer), and the web's `queue:team` event for every team. Also the bytes of a `queue.get`
 * answer for a member of one team. Run with nothing else of the stack; prints medians and p95 per
 * stage and writes bench/results/snapshot-cost.json.
 *
 *   npm run bench:snapshot -- [--jobs 5000] [--teams 100] [--users 50] [--iterations 40]
 */

const { config } = parseBenchArgs({ jobs: 5_000, teams: 100, users: 50, iterations: 40 });
const MODEL = 'qwen2.5-coder:7b';
const BACKENDS = 4;
const SLOTS = 4;
const WARMUP = 5;
const T0 = 1_700_000_000_000;

const random = prng(7);
/** A cuid-like id (25 characters), the length of the database's ids. */
const cuid = () => `c${Array.from({ length: 24 }, () => Math.floor(random() * 36).toString(36)).join('')}`;

/** `jobs` waiting behind every slot busy, spread evenly over the teams' users, arriving 20 ms apart. */
function build(): { state: SchedulerState; teams: string[]; details: JobDetails; now: number } {
  const backends = Array.from({ length: BACKENDS }, (_, i) => ollama(`gpu-${i}`, SLOTS, [MODEL]));
  const state = createSchedulerState({ tiers: [tier('free'), tier('premium', { weight: 3, basePriority: 1 })], backends, now: T0 });
  for (const backend of backends) recordServiceTime(state, MODEL, backend.id, 2_800);
  const teams = Array.from({ length: config.teams }, cuid);
  const users = teams.map(() => Array.from({ length: config.users }, cuid));
  const details: JobDetails = new Map();
  const total = config.jobs + BACKENDS * SLOTS;
  for (let i = 0; i < total; i++) {
    const team = i % config.teams;
    const jobId = cuid();
    const userId = users[team]![Math.floor(i / config.teams) % config.users]!;
    const result = enqueue(state, { jobId, teamId: teams[team]!, userId, tier: team % 4 === 0 ? 'premium' : 'free', model: MODEL }, T0 + i * 20);
    if (!result.ok) throw new Error(result.reason);
    const info: QueueJobInfo = { userName: `User ${i % config.users}`, projectId: cuid(), projectName: `Project ${team}`, title: `reverse a string (${i})`, apiKeyName: null };
    details.set(jobId, { userId, info });
  }
  const now = T0 + total * 20;
  dispatch(state, now);
  return { state, teams, details, now };
}

const { state, teams, details, now } = build();
const stages = ['forecast', 'queueSnapshot', 'forTeams', 'encode', 'decode', 'teamEvents'] as const;
type Stage = (typeof stages)[number];
const samples = () => Object.fromEntries([...stages, 'total'].map((stage) => [stage, [] as number[]])) as Record<Stage | 'total', number[]>;
const wall = samples();
const cpu = samples();
let bytes = 0;
let oneTeamBytes = 0;
let events = 0;

function timed<T>(stage: Stage, run: () => T, record: boolean): T {
  const startedCpu = process.cpuUsage();
  const started = performance.now();
  const result = run();
  if (record) {
    wall[stage].push(performance.now() - started);
    const used = process.cpuUsage(startedCpu);
    cpu[stage].push((used.user + used.system) / 1000);
  }
  return result;
}

for (let i = 0; i < WARMUP + config.iterations; i++) {
  const record = i >= WARMUP;
  const planned = timed('forecast', () => forecast(state, now), record);
  const snap = timed('queueSnapshot', () => queueSnapshot(state, planned, i + 1), record);
  const answer = timed('forTeams', () => snapshotForTeams(snap, teams), record);
  const payload = timed('encode', () => defaultPayloadConverter.toPayload(answer), record);
  const received = timed('decode', () => defaultPayloadConverter.fromPayload<typeof snap>(payload), record);
  const built = timed('teamEvents', () => teams.map((teamId) => teamEvent(received, teamId, details)), record);
  bytes = payload.data?.byteLength ?? 0;
  oneTeamBytes = defaultPayloadConverter.toPayload(snapshotForTeams(snap, teams.slice(0, 1))).data?.byteLength ?? 0;
  events = built.length;
  if (record) for (const times of [wall, cpu]) times.total.push(stages.reduce((sum, stage) => sum + times[stage].at(-1)!, 0));
}

const summary = (values: number[]) => ({ median: round(percentile(values, 50), 2), p95: round(percentile(values, 95), 2) });
const rows = Object.fromEntries((['total', ...stages] as const).map((stage) => [stage, { wallMs: summary(wall[stage]), cpuMs: summary(cpu[stage]) }]));
const machine = describeMachine();

console.log(`snapshot cost: ${state.waiting.length} waiting, ${Object.keys(state.leases).length} running, ${config.teams} teams × ${config.users} users, ${config.iterations} iterations (load average ${machine.loadAverageAtStart.join(' ')})`);
for (const [stage, row] of Object.entries(rows)) {
  const ms = (value: number) => value.toFixed(2).padStart(7);
  console.log(`${stage.padEnd(14)} wall median ${ms(row.wallMs.median)} p95 ${ms(row.wallMs.p95)} ms | cpu median ${ms(row.cpuMs.median)} p95 ${ms(row.cpuMs.p95)} ms`);
}
console.log(`payload ${bytes.toLocaleString('en')} bytes (every team), ${oneTeamBytes.toLocaleString('en')} bytes (one team, as queue.get); ${events} team events`);

const out = path.join(repoRoot, 'bench/results/snapshot-cost.json');
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      benchmark: 'snapshot-cost',
      date: new Date().toISOString(),
      machine,
      config: { ...config, backends: `${BACKENDS} × ${SLOTS} slots`, model: MODEL },
      waiting: state.waiting.length,
      running: Object.keys(state.leases).length,
      payloadBytes: bytes,
      oneTeamPayloadBytes: oneTeamBytes,
      teamEvents: events,
      stages: rows,
      method:
        'One process, no Temporal: each iteration runs forecast → queueSnapshot → snapshotForTeams (every team) → payload converter encode (worker) → decode (web) → queue:team event of every team on the same state; CPU from process.cpuUsage, wall from performance.now, after warm-up iterations.',
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${path.relative(repoRoot, out)}`);
