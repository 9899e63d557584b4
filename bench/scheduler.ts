import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKeyring, parseKeyList } from '../server/crypto/keyring';
import { createPrisma } from '../server/db/client';
import { createUrlAllowlist, DEFAULT_BACKEND_URL_ALLOWLIST, DEFAULT_WEBHOOK_URL_ALLOWLIST, WEBHOOK_URLS } from '../server/net/allowlist';
import type { RequestRecord } from '../simulator';
import { createServices } from '../server/services';
import { createTemporalProvider } from '../server/temporal/client';
import { payloadCodec, payloadDataConverter } from '../server/temporal/codec';
import { repoRoot } from '../scripts/lib/paths';
import type { Stack } from '../scripts/lib/stack';
import { positionQuery, schedulerWorkflowId, statusQuery, type SchedulerMessage } from '../workflows/scheduler/api';
import { createBenchWorkspace, type BenchUser } from './lib/clients';
import { startBenchStack, type BenchMode } from './lib/stack';
import type { HistoryEvent } from './lib/histories';
import { cpuBetween, stackUsage } from './lib/processes';
import {
  dispatchGaps,
  jainIndex,
  orderAccuracy,
  serviceIn,
  utilization,
  weightedShareError,
  type SlotUse,
} from './lib/scheduler-metrics';
import { percentile, round } from './lib/stats';
import { parseBenchArgs } from './lib/args';
import { runCapped } from './lib/time-cap';
import { runResidencyBench } from './lib/residency-bench';
import { inPool, patiently, setSlowdown, until } from './lib/backlog';

/**
 * The scheduler under a backlog, on the whole stack: simulated backends (--instances × --slots,
 * two models), --jobs jobs from --users users in --teams teams on three tiers of weights 3, 2, 1
 * (equal weights within a tier). Jobs are submitted through the job service itself (admission, row,
 * workflow start — what the tRPC mutation calls), in-process, without HTTP in between.
 *
 * --prefetch is each instance's pipelining: leases beyond its slots whose requests wait in the
 * simulator's queue (none unless an admin or OLLAMA_PREFETCH sets it; 2 by default here); 0 turns
 * it off.
 *
 * To read every job's predicted position at one moment with no arrivals, blocker jobs first hold
 * every slot and every pipelined place (streamed slowly); the backlog is submitted behind them, every position is read, the
 * scheduler is checked not to have granted anything meanwhile, and then the blockers are cancelled
 * and the backlog runs. Prints a table and writes bench/results/scheduler.json.
 *
 *   npm run build && npm run bench:scheduler -- [--jobs 2000] [--users 200] [--teams 20]
 *     [--instances 4] [--slots 2] [--prefetch 2] [--tokens 120] [--tps 50] [--mode prod|test] [--max-seconds 1200]
 *
 * --mode prod (default) runs the production build on free ports (see bench/lib/stack.ts); test
 * runs the sources.
 *
 *   npm run bench:scheduler -- --residency [...]   guessed against read residency, no stack (see bench/lib/residency-bench.ts)
 */

// --residency: the pure core alone on a simulated clock (bench/lib/residency-bench.ts), no stack.
if (process.argv.includes('--residency')) {
  runResidencyBench(process.argv.slice(2));
  process.exit(0);
}

const { mode, config } = parseBenchArgs(
  { jobs: 2000, users: 200, teams: 20, instances: 4, slots: 2, prefetch: 2, tokens: 120, tps: 50, 'max-seconds': 1200 },
  ['prefetch'],
);
if (config.users % config.teams !== 0) throw new Error('--users must be a multiple of --teams (each team gets the same number of users)');
if (config.teams < 3) throw new Error('--teams must be at least 3 (one per tier)');

const MODELS = ['qwen2.5-coder:7b', 'llama3.1:8b'];
// A one-line request: no review step, so a job's slot time is its generation.
const REQUIREMENTS = 'reverse a string';
const TTFT_MS = 20;
// Blockers wait this long for their first token, far longer than any backlog takes to queue;
// generate's keep-alive heartbeats keep them alive meanwhile, and cancelling ends them.
const BLOCKER_FIRST_TOKEN_MS = 3_600_000;
const SETTLED = ['completed', 'failed', 'cancelled', 'dead_letter'] as const;

// Tiers of weights 3, 2, 1 with about 20 %, 30 % and 50 % of the teams; same base priority, so
// the order between them is weighted fair share alone.
const gold = Math.max(1, Math.round(config.teams * 0.2));
const silver = Math.max(1, Math.round(config.teams * 0.3));
const tierOfTeam = (t: number) => (t < gold ? 'sched-gold' : t < gold + silver ? 'sched-silver' : 'sched-bronze');
const totalSlots = config.instances * config.slots;
// Blockers take every slot and every pipelined place, so that nothing of the backlog is granted
// before the positions are read.
const blockerCount = totalSlots + config.instances * config.prefetch;

let stack: Stack | undefined;
let closeServices: (() => Promise<void>) | undefined;
await runCapped('bench:scheduler', config['max-seconds'], run, cleanup);

async function cleanup(): Promise<void> {
  await closeServices?.();
  await stack?.stop();
}

async function run(): Promise<void> {
  stack = await startBenchStack(mode as BenchMode, {
    web: false,
    echo: false,
    logFile: path.join(os.tmpdir(), `switchyard-bench-scheduler-${process.pid}.log`),
    simInstances: config.instances,
    simArgs: ['--slots', String(config.slots), '--queue', String(Math.max(16, config.prefetch)), '--tps', String(config.tps), '--tokens', String(config.tokens), '--ttft', String(TTFT_MS), '--load-ms', '0'],
    env: { OLLAMA_SLOTS: String(config.slots), OLLAMA_PREFETCH: String(config.prefetch) },
  });
  const sessionSecret = randomBytes(32).toString('hex');
  const prisma = createPrisma(stack.databaseUrl);
  const temporal = createTemporalProvider({ address: stack.temporalAddress, namespace: stack.temporalNamespace, taskQueue: stack.taskQueue, dataConverter: payloadDataConverter(stack.encryptionKeys) });
  closeServices = async () => {
    await temporal.close();
    await prisma.$disconnect();
  };
  const services = createServices({
    prisma,
    temporal,
    sessionSecret,
    defaultModel: MODELS[0]!,
    temporalUiUrl: '',
    maxTeamsPerUser: 0,
    keyring: createKeyring(parseKeyList(`bench:${randomBytes(32).toString('base64')}`)),
    backendUrls: createUrlAllowlist(DEFAULT_BACKEND_URL_ALLOWLIST),
    webhookUrls: createUrlAllowlist(DEFAULT_WEBHOOK_URL_ALLOWLIST, { purpose: WEBHOOK_URLS }),
  });
  const scheduler = (await temporal.get()).workflow.getHandle(schedulerWorkflowId(stack.taskQueue));

  const usersPerTeam = config.users / config.teams;
  const [blockerTeam, ...teams] = await createBenchWorkspace(stack.databaseUrl, {
    slug: 'sched',
    tiers: [
      { name: 'sched-blocker', maxRunningPerUser: blockerCount },
      { name: 'sched-gold', weight: 3, maxRunningPerUser: 2 },
      { name: 'sched-silver', weight: 2, maxRunningPerUser: 2 },
      { name: 'sched-bronze', weight: 1, maxRunningPerUser: 2 },
    ],
    teams: [
      { tier: 'sched-blocker', projects: 1, users: 1 },
      ...Array.from({ length: config.teams }, (_, t) => ({ tier: tierOfTeam(t), projects: 1, users: usersPerTeam })),
    ],
    sessionSecret,
  });
  // User u is member u / teams of team u % teams, so consecutive submissions rotate over teams.
  const users = Array.from({ length: config.users }, (_, u) => teams[u % config.teams]!.users[Math.floor(u / config.teams)]!);
  const projectOf = new Map(teams.flatMap((team) => team.users.map((user) => [user.id, team.projectIds[0]!] as const)));
  const submit = (user: BenchUser, projectId: string, key: string, model: string) =>
    services.jobs.submit(user, { projectId, requirements: REQUIREMENTS, model, priority: 'normal', clientKey: key }).then((job) => job.id);

  // 1. Blockers take every slot and pipelined place, streaming slowly.
  await setSlowdown(stack, BLOCKER_FIRST_TOKEN_MS / TTFT_MS);
  const blocker = blockerTeam!.users[0]!;
  const blockers = await Promise.all(
    Array.from({ length: blockerCount }, (_, i) => submit(blocker, blockerTeam!.projectIds[0]!, `blocker-${i}`, MODELS[0]!)),
  );
  await until(async () => (await prisma.job.count({ where: { id: { in: blockers }, status: 'running' } })) === blockerCount, 'the blockers to hold every slot', 120_000);
  await setSlowdown(stack, 1);

  // 2. The backlog, behind them.
  const submitStarted = performance.now();
  const jobIds: string[] = new Array(config.jobs);
  await inPool(config.jobs, 8, async (j) => {
    const user = users[j % config.users]!;
    jobIds[j] = await submit(user, projectOf.get(user.id)!, `job-${j}`, MODELS[Math.floor(j / config.users) % MODELS.length]!);
  });
  const submitSeconds = (performance.now() - submitStarted) / 1000;
  await until(async () => (await patiently(() => scheduler.query(statusQuery))).waiting === config.jobs, 'every job to be queued in the scheduler', 600_000);
  const queuedSeconds = (performance.now() - submitStarted) / 1000;
  console.log(`${config.jobs} jobs submitted in ${round(submitSeconds)} s, all queued after ${round(queuedSeconds)} s`);

  // 3. Every predicted position, read while nothing can start.
  const predicted = new Array<number>(config.jobs);
  await inPool(config.jobs, 16, async (j) => {
    const entry = await patiently(() => scheduler.query(positionQuery, jobIds[j]!));
    if (!entry || entry.blocked) throw new Error(`job ${j} has no position (${entry?.blocked ?? 'not waiting'})`);
    predicted[j] = entry.position;
  });
  const after = await patiently(() => scheduler.query(statusQuery));
  if (after.waiting !== config.jobs || !blockers.every((id) => after.leases.includes(id))) {
    throw new Error(
      'the scheduler granted a slot while positions were being read (a blocker ended): the snapshot is not of one moment; see the stack log',
    );
  }
  if (new Set(predicted).size !== config.jobs) throw new Error('the positions read are not one consistent order');
  const predictedOrder = jobIds.map((id, j) => ({ id, position: predicted[j]! })).sort((a, b) => a.position - b.position).map((e) => e.id);

  // 4. Release the blockers; the backlog runs.
  const releasedAt = Date.now();
  const usageBefore = stackUsage();
  await Promise.all(blockers.map((id) => services.jobs.cancel(blocker, id)));
  let lastReport = Date.now();
  await until(
    async () => {
      const settled = await prisma.job.count({ where: { id: { in: jobIds }, status: { in: [...SETTLED] } } });
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        console.log(`  ${settled}/${config.jobs} jobs finished after ${round((Date.now() - releasedAt) / 1000)} s`);
      }
      return settled === config.jobs;
    },
    'the backlog to finish',
    config['max-seconds'] * 1000,
  );
  const finishedAt = Date.now();
  const cpu = cpuBetween(usageBefore, stackUsage());

  // 5. What happened, from the backends' request logs, the job rows and the scheduler's history.
  const requests: SlotUse[] = (
    await Promise.all(
      stack.ollamaUrls.map(async (url, instance) => {
        const { requests: log } = (await (await fetch(`${url}/_sim/requests`)).json()) as { requests: RequestRecord[] };
        return log.map((r) => ({ instance, arrivedAt: r.arrivedAt, slotAt: r.slotAt, endedAt: r.endedAt }));
      }),
    )
  ).flat();
  const backlogRequests = requests.filter((r) => r.arrivedAt >= releasedAt);
  const backlogFrom = Math.min(...backlogRequests.map((r) => r.arrivedAt));
  const backlogTo = Math.max(...backlogRequests.map((r) => r.arrivedAt));
  const gaps = dispatchGaps(requests, config.slots, (r) => r.arrivedAt >= releasedAt, (r) => r.arrivedAt >= releasedAt);

  const rows = await prisma.job.findMany({
    where: { id: { in: jobIds } },
    select: { id: true, teamId: true, status: true, startedAt: true, finishedAt: true },
  });
  const byId = new Map(rows.map((row) => [row.id, row]));
  const failed = rows.filter((row) => row.status !== 'completed').length;
  const runs = rows
    .filter((row) => row.startedAt && row.finishedAt)
    .map((row) => ({ teamId: row.teamId, startedAt: row.startedAt!.getTime(), finishedAt: row.finishedAt!.getTime() }));
  // Contention lasts while every team still has jobs waiting: until the first team's last start.
  const lastStart = new Map<string, number>();
  for (const run of runs) lastStart.set(run.teamId, Math.max(lastStart.get(run.teamId) ?? 0, run.startedAt));
  const contentionFrom = Math.min(...runs.map((r) => r.startedAt));
  const contentionTo = Math.min(...lastStart.values());
  const serviceOf = new Map<string, number>();
  for (const run of runs) serviceOf.set(run.teamId, (serviceOf.get(run.teamId) ?? 0) + serviceIn(run, contentionFrom, contentionTo));
  const tiers = ['sched-gold', 'sched-silver', 'sched-bronze'].map((name) => {
    const members = teams.filter((team) => team.tier === name);
    const service = members.map((team) => serviceOf.get(team.id) ?? 0);
    return {
      tier: name,
      weight: members[0]!.weight,
      teams: members.length,
      jain: jainIndex(service),
      service: service.reduce((a, b) => a + b, 0),
      totalWeight: members.length * members[0]!.weight,
    };
  });
  const allService = tiers.reduce((a, t) => a + t.service, 0);
  const allWeight = tiers.reduce((a, t) => a + t.totalWeight, 0);

  const history = await readSchedulerHistory(scheduler.workflowId, releasedAt, finishedAt);
  const grantRank = new Map(history.grantOrder.map((jobId, rank) => [jobId, rank]));
  const byGrant = orderAccuracy(predictedOrder.map((id) => grantRank.get(id) ?? Number.POSITIVE_INFINITY));
  const byStart = orderAccuracy(predictedOrder.map((id) => byId.get(id)?.startedAt?.getTime() ?? Number.POSITIVE_INFINITY));

  report({
    jobs: config.jobs,
    users: config.users,
    teams: config.teams,
    backends: `${config.instances} × ${config.slots} slots, prefetch ${config.prefetch}, models ${MODELS.join(', ')}`,
    prefetch: config.prefetch,
    serviceMsPerJob: round(TTFT_MS + (config.tokens * 1000) / config.tps),
    submitSeconds: round(submitSeconds),
    backlogSeconds: round((finishedAt - releasedAt) / 1000),
    failedJobs: failed,
    utilization: round(utilization(requests, totalSlots, backlogFrom, backlogTo), 4),
    dispatchGapMs: { p50: round(percentile(gaps, 50)), p95: round(percentile(gaps, 95)), p99: round(percentile(gaps, 99)), max: round(percentile(gaps, 100)), count: gaps.length },
    jainIndex: round(Math.min(...tiers.map((t) => t.jain)), 4),
    weightedShareError: round(weightedShareError(tiers.map((t) => ({ service: t.service, weight: t.totalWeight }))), 4),
    tierShares: tiers.map((t) => ({
      tier: t.tier,
      weight: t.weight,
      teams: t.teams,
      observedShare: round(t.service / allService, 4),
      entitledShare: round(t.totalWeight / allWeight, 4),
      jainIndex: round(t.jain, 4),
    })),
    contentionSeconds: round((contentionTo - contentionFrom) / 1000),
    positionAccuracy: round(byGrant.jobsInOrder, 4),
    positionOrder: {
      byGrant: { jobsInOrder: round(byGrant.jobsInOrder, 4), pairsInOrder: round(byGrant.pairsInOrder, 6), meanDisplacement: round(byGrant.meanDisplacement, 2) },
      byStartedAt: { jobsInOrder: round(byStart.jobsInOrder, 4), pairsInOrder: round(byStart.pairsInOrder, 6), meanDisplacement: round(byStart.meanDisplacement, 2) },
    },
    schedulerCpuSeconds: round(cpu.worker, 2),
    cpuSecondsByProcess: Object.fromEntries(Object.entries(cpu).map(([role, seconds]) => [role, round(seconds, 2)])),
    schedulerWorkflowTasks: {
      runs: history.runs,
      tasks: history.taskMs.length,
      totalSeconds: round(history.taskMs.reduce((a, b) => a + b, 0) / 1000, 2),
      p50Ms: round(percentile(history.taskMs, 50)),
      p99Ms: round(percentile(history.taskMs, 99)),
    },
    schedulerReactionMs: { p50: round(percentile(history.reactionMs, 50)), p99: round(percentile(history.reactionMs, 99)) },
  });
}

/**
 * From the scheduler workflow's own histories (all its runs), within [from, to]: the order it sent
 * grants in (its dispatch order), how long the worker held each of its workflow tasks (wall time),
 * and its reaction time — a job's release signal recorded → the next grant recorded.
 */
async function readSchedulerHistory(workflowId: string, from: number, to: number) {
  const client = await createTemporalProvider({ address: stack!.temporalAddress, namespace: stack!.temporalNamespace, taskQueue: stack!.taskQueue, dataConverter: payloadDataConverter(stack!.encryptionKeys) }).get();
  try {
    const executions = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) executions.push(execution);
    executions.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    const grantOrder: string[] = [];
    const granted = new Set<string>();
    const taskMs: number[] = [];
    const reactionMs: number[] = [];
    // Releases not yet answered by a grant, oldest first.
    const releases: number[] = [];
    for (const execution of executions) {
      const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
      let taskStartedAt: number | undefined;
      for (const event of history.events ?? []) {
        const at = tsToMs(event.eventTime);
        if (event.workflowTaskStartedEventAttributes) taskStartedAt = at;
        else if (event.workflowTaskCompletedEventAttributes && taskStartedAt !== undefined) {
          if (taskStartedAt >= from && taskStartedAt <= to) taskMs.push(at - taskStartedAt);
          taskStartedAt = undefined;
        } else if (event.workflowExecutionSignaledEventAttributes) {
          if (at >= from) for (let i = await releasesIn(event); i > 0; i--) releases.push(at);
        } else {
          for (const jobId of await grantsIn(event)) {
            // A grant re-sent to a job that asked again is not a new dispatch.
            if (granted.has(jobId)) continue;
            granted.add(jobId);
            grantOrder.push(jobId);
            const release = releases.shift();
            if (release !== undefined) reactionMs.push(at - release);
          }
        }
      }
    }
    return { runs: executions.length, grantOrder, taskMs, reactionMs };
  } finally {
    await client.connection.close();
  }
}

/**
 * The jobs an event of the scheduler's history grants capacity to, in dispatch order: the result
 * of a `messageJobs` local activity.
 */
async function grantsIn(event: HistoryEvent): Promise<string[]> {
  const details = event.markerRecordedEventAttributes?.details;
  const [data] = details?.data?.payloads ?? [];
  const [result] = details?.result?.payloads ?? [];
  if (!data || !result || (await opened<{ activity_type?: string }>(data)).activity_type !== 'messageJobs') return [];
  return (await opened<{ granted: string[] }>(result)).granted;
}

/** Leases a signal to the scheduler gives back: the `done`s of a batch of messages. */
async function releasesIn(event: HistoryEvent): Promise<number> {
  const signal = event.workflowExecutionSignaledEventAttributes;
  const [input] = signal?.input?.payloads ?? [];
  if (signal?.signalName !== 'messages' || !input) return 0;
  return (await opened<SchedulerMessage[]>(input)).filter((message) => 'done' in message).length;
}

/** A history's payload as the workers saw it: a raw history holds them sealed (server/temporal/codec.ts). */
async function opened<T>(payload: Payload): Promise<T> {
  const [plain] = await payloadCodec(stack!.encryptionKeys).decode([payload]);
  return defaultPayloadConverter.fromPayload<T>(plain!);
}

function report(figures: Record<string, unknown> & { dispatchGapMs: Record<string, number> }): void {
  const out = path.join(repoRoot, 'bench/results/scheduler.json');
  const result = {
    benchmark: 'scheduler',
    date: new Date().toISOString(),
    mode,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30), node: process.version, loadAverage: os.loadavg().map((l) => round(l, 2)) },
    ...figures,
    targets: { utilization: 0.98, dispatchGapMs: { p50: 25, p99: 150 }, jainIndex: 0.95, positionAccuracy: 0.99 },
    definitions: {
      utilization: 'busy slot-time / available slot-time from the first to the last backlog request reaching a backend (simulator request logs; blockers being cancelled count as busy)',
      dispatchGapMs: 'per backend, a request ending (slot released) to the next request reaching that backend for the freed slot, the k-th release paired with the k-th slot taken; releases of backlog jobs only',
      jainIndex: "Jain's index of slot-time served per team within each tier (equal weights), over the contention period (until the first team has nothing left to start); the lowest of the tiers",
      weightedShareError: '½ Σ over tiers |observed share of slot-time − share of weight| over the contention period: the fraction of service that went to the wrong tier',
      positionAccuracy:
        "fraction of jobs in order: every job predicted ahead of it was granted no later and every job predicted behind it no later than it — the order being the scheduler's grants (its history). Positions are read for all jobs at one moment with no arrivals. positionOrder.byStartedAt applies the same measure to the jobs' startedAt, which adds the orchestration's jitter between a grant and the activity starting",
      schedulerCpuSeconds: "CPU seconds of the worker process from releasing the backlog to its end: the scheduler workflow's CPU is inside it, together with every job workflow and activity; schedulerWorkflowTasks gives the wall time the worker held the scheduler's own workflow tasks (from its history), an upper bound of their CPU",
      schedulerReactionMs: "from a job's release (done signal) recorded in the scheduler's history to the next grant it records, releases and grants paired in order: the scheduler's own share of the dispatch gap",
    },
    notes: [
      'Everything (PostgreSQL, Temporal dev server, worker, simulator, this coordinator) shares one machine, which other engineers also use: figures are lower bounds.',
      'Jobs are submitted through the job service in-process (the code behind the tRPC mutation), not over HTTP.',
    ],
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const gap = figures.dispatchGapMs;
  console.table({
    utilization: { value: figures.utilization, target: '≥ 0.98' },
    'dispatch gap p50 (ms)': { value: gap.p50, target: '≤ 25' },
    'dispatch gap p99 (ms)': { value: gap.p99, target: '≤ 150' },
    "Jain's index (min over tiers)": { value: figures.jainIndex, target: '≥ 0.95' },
    'weighted share error': { value: figures.weightedShareError, target: '' },
    'position accuracy (jobs in order)': { value: figures.positionAccuracy, target: '≥ 0.99' },
    'worker CPU (s)': { value: figures.schedulerCpuSeconds, target: '' },
  });
  console.log(`wrote ${path.relative(repoRoot, out)}`);
}
