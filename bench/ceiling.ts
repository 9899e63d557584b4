import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createSchedulerActivities } from '../activities/scheduler';
import { createHandOverGate } from '../activities/hand-over-gate';
import { createSignalBatcher } from '../activities/signal-batcher';
import { repoRoot } from '../scripts/lib/paths';
import { freePort } from '../scripts/lib/ports';
import { startPostgres } from '../scripts/lib/postgres';
import { createPrisma } from '../server/db/client';
import { applyMigrations } from '../server/db/migrate';
import { startTemporalDevServer } from '../scripts/lib/temporal-cli';
import { DEVELOPMENT_ENCRYPTION_KEYS } from '../server/env';
import { payloadDataConverter } from '../server/temporal/codec';
import { workerTuning } from '../server/temporal/worker-options';
import { jobWorkflowId } from '../workflows/definitions';
import { ollama, tier } from '../workflows/scheduler/core/simulation';
import {
  messagesSignal,
  positionQuery,
  schedulerTaskQueue,
  schedulerWorkflowId,
  statusQuery,
  type CapacityRequest,
  type SchedulerInput,
  type SchedulerMessage,
} from '../workflows/scheduler/api';
import type { HistoryEvent } from './lib/histories';
import { percentile, round } from './lib/stats';
import { describeMachine } from './suite/machine';

/**
 * The scheduler's ceiling: grows one scheduler workflow's waiting backlog on the real Temporal dev
 * server, step by step, until something gives, and reports at each step what limits it — the
 * payload continue-as-new carries (Temporal refuses one past 2 MB), the workflow tasks' time, the
 * history, and how fast a waiting job's position follows a change (p95 against the 1 s target).
 *
 * Only the scheduler runs (its production workflow code, codec and activities, on its own worker):
 * every slot is held by a job that never finishes, so the backlog only grows. Requests arrive as a
 * worker sends them (its batcher: 200 to a `messages` signal, one signal in flight, through the
 * hand-over gate in PostgreSQL that holds them while the scheduler continues as new), from `--users` users in
 * `--teams` teams of two tiers. Continue-as-new is forced often (`--history-limit` events) so that
 * each step carries its backlog across at least once.
 *
 * A step "gives" when the backlog stops growing (the scheduler no longer takes signals: a refused
 * continue-as-new, a failed workflow task) or its position updates pass `--give-up-ms` at p95.
 *
 *   npm run bench:ceiling -- [--steps 5000,10000,…] [--probes 20] [--teams 100] [--users 2000]
 */

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '5000,10000,20000,30000,40000,50000,60000,80000,100000' },
    probes: { type: 'string', default: '20' },
    teams: { type: 'string', default: '100' },
    users: { type: 'string', default: '2000' },
    'history-limit': { type: 'string', default: '100' },
    'give-up-ms': { type: 'string', default: '30000' },
  },
});
const whole = (flag: string, text: string | undefined) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a positive whole number, got ${text}`);
  return value;
};
const steps = (values.steps ?? '').split(',').map((step) => whole('steps', step));
const probes = whole('probes', values.probes);
const teamCount = whole('teams', values.teams);
const userCount = whole('users', values.users);
const historyLimit = whole('history-limit', values['history-limit']);
const giveUpMs = whole('give-up-ms', values['give-up-ms']);

const MODEL = 'qwen2.5-coder:7b';
const SLOTS = 4;
const PER_SIGNAL = 200;
/** Longest wait for the scheduler to take what was sent before the step counts as given. */
const STALL_MS = 180_000;
const TASK_QUEUE = `ceiling-${randomUUID().slice(0, 8)}`;
const HOLDER_QUEUE = `${TASK_QUEUE}-holders`;

const tiers = [tier('free', { maxQueuedPerUser: 0 }), tier('premium', { weight: 3, basePriority: 1, maxQueuedPerUser: 0 })];
const teams = Array.from({ length: teamCount }, () => randomUUID());
const users = Array.from({ length: userCount }, (_, i) => ({ id: randomUUID(), team: i % teamCount }));
let sent = 0;
function request(jobId = randomUUID()): CapacityRequest {
  const user = users[sent++ % users.length]!;
  const tierPolicy = tiers[user.team % 4 === 0 ? 1 : 0]!;
  return { jobId, teamId: teams[user.team]!, userId: user.id, tier: tierPolicy.name, model: MODEL, tierPolicy };
}

interface Step {
  waiting: number;
  reached: boolean;
  /** Jobs taken per second while growing to this step (send → the status counting them). */
  enqueuePerSecond: number;
  /** The payload the latest continue-as-new carried (sealed by the codec, as the server stores it). */
  carriedBytes: number | null;
  carriedAtWaiting: number | null;
  /** The largest local activity result of the step: a part of the waiting list a new run read back. */
  largestResultBytes: number;
  continuedAsNew: number;
  /** The old run's continue-as-new recorded → the new run's first workflow task completed (the latest in the step). */
  handOverMs: number | null;
  /** Workflow tasks the server had to give the worker again (a refused continue-as-new, a failure). */
  failedWorkflowTasks: number;
  failureCauses: string[];
  /** The server's refusals of the worker's completions during the step (its error messages). */
  refusedCompletions: string[];
  /** Workflow task started → completed, over the tasks of this step. */
  workflowTaskMs: { p50: number; p95: number; max: number };
  /** A waiting job's `position` query, nothing having changed. */
  positionQueryMs: { p50: number; p95: number };
  /** A job ahead leaves the queue (signal sent) → the position query shows the change. */
  positionUpdateMs: { p50: number; p95: number; max: number };
  historyEvents: number;
  workerRssMb: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dataConverter = payloadDataConverter(DEVELOPMENT_ENCRYPTION_KEYS);
const started = Date.now();
/** What the worker could not complete during the current step, as the server answered it (e.g. a continue-as-new past the payload limit). */
const refusedCompletions = new Set<string>();
Runtime.install({
  logger: new DefaultLogger('WARN', (entry) => {
    const { message, meta } = entry;
    if (message.startsWith('Error while completing workflow activation')) refusedCompletions.add(String(meta?.error ?? message).replace(/^.*message: "/, '').replace(/"$/, ''));
    console.warn(`worker ${entry.level}: ${message}`);
  }),
});
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-ceiling-'));
// PostgreSQL runs as another user when we are root and must enter it.
chmodSync(dataDir, 0o755);
// The hand-over hold every worker reads (activities/hand-over-gate.ts) lives in PostgreSQL.
const postgres = await startPostgres({ dataDir: path.join(dataDir, 'postgres'), port: await freePort(), ephemeral: true });
await applyMigrations(postgres.url);
const prisma = createPrisma(postgres.url);
const temporalServer = await startTemporalDevServer({ headless: true, name: 'temporal' });
// The scheduler's history pages outgrow gRPC's default 4 MB a message long before anything gives.
const connection = await Connection.connect({ address: temporalServer.address, channelArgs: { 'grpc.max_receive_message_length': 128 * 2 ** 20 } });
const nativeConnection = await NativeConnection.connect({ address: temporalServer.address });
const client = new Client({ connection, dataConverter });
const schedulerId = schedulerWorkflowId(TASK_QUEUE);
const scheduler = client.workflow.getHandle(schedulerId);
const gate = createHandOverGate(prisma);
/** What the jobs of one worker process send, as they send it: batched, one signal in flight, through the hand-over gate. */
const sender = createSignalBatcher<SchedulerMessage>((messages) => gate.pass(schedulerId, () => scheduler.signal(messagesSignal, messages)), PER_SIGNAL);
const worker = await Worker.create({
  ...workerTuning,
  connection: nativeConnection,
  dataConverter,
  taskQueue: schedulerTaskQueue(TASK_QUEUE),
  workflowBundle: await bundleWorkflowCode({ workflowsPath: path.join(repoRoot, 'workflows/index.ts'), logger: quietLogger() }),
  activities: createSchedulerActivities({ temporal: client, prisma, startScheduler: async () => undefined }),
});
const running = worker.run();
const results: Step[] = [];
/** The run read last, and how many of its events. */
let lastRun: { runId: string; seen: number } | null = null;
let verdict = 'every step held';

try {
  // Jobs that hold every slot for the whole run: workflows nobody executes, so grants reach them.
  const holders = Array.from({ length: SLOTS }, () => randomUUID());
  for (const jobId of holders) {
    await client.workflow.start('ceilingHolder', { workflowId: jobWorkflowId(jobId), taskQueue: HOLDER_QUEUE, args: [] });
  }
  const input: SchedulerInput = { setup: { tiers, backends: [ollama('gpu-0', SLOTS, [MODEL])] }, historyLimit };
  await client.workflow.start('schedulerWorkflow', { workflowId: schedulerId, taskQueue: schedulerTaskQueue(TASK_QUEUE), args: [input] });
  await scheduler.signal(messagesSignal, holders.map((jobId) => ({ enqueue: request(jobId) })));
  await until(async () => (await scheduler.query(statusQuery)).leases.length === SLOTS, 'every slot held', STALL_MS);

  let waiting = 0;
  for (const target of steps) {
    const growFrom = Date.now();
    // A run that cannot hand over keeps taking signals until the server's limit per run refuses them.
    const refusedSignals = new Set<string>();
    await Promise.all(
      Array.from({ length: target - waiting }, () =>
        sender.add({ enqueue: request() }).catch((error: Error) => refusedSignals.add((error.cause as { details?: string } | undefined)?.details ?? error.message)),
      ),
    );
    waiting = target;
    const reached = await until(async () => (await scheduler.query(statusQuery)).waiting >= target, `${target} waiting`, STALL_MS).then(
      () => true,
      () => false,
    );
    const enqueuePerSecond = round((target - (results.at(-1)?.waiting ?? 0)) / ((Date.now() - growFrom) / 1000));
    const step = reached ? await measure(target) : null;
    const continued = reached && (await continueAsNew(target));
    const result: Step = {
      waiting: target,
      reached,
      enqueuePerSecond,
      ...(await schedulerHistory()),
      refusedCompletions: [...refusedCompletions],
      positionQueryMs: step?.queryMs ?? { p50: Number.NaN, p95: Number.NaN },
      positionUpdateMs: step?.updateMs ?? { p50: Number.NaN, p95: Number.NaN, max: Number.NaN },
      workerRssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
    };
    refusedCompletions.clear();
    results.push(result);
    print(result);
    if (!reached || !continued) {
      const why = [...result.refusedCompletions, ...result.failureCauses, ...[...refusedSignals].map((reason) => `signals refused: ${reason}`)];
      verdict = `${reached ? 'no continue-as-new' : 'the backlog stopped growing'} at ${target} waiting jobs (${why.join('; ') || 'no failure recorded'})`;
      break;
    }
    if (result.positionUpdateMs.p95 > giveUpMs) {
      verdict = `position updates took ${result.positionUpdateMs.p95} ms at p95 with ${target} waiting`;
      break;
    }
  }
} finally {
  await scheduler.terminate('benchmark over').catch(() => undefined);
  worker.shutdown();
  await running.catch(() => undefined);
  await Promise.all([connection.close(), nativeConnection.close(), prisma.$disconnect()]);
  await temporalServer.stop();
  await postgres.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const largestHeld = results.filter((step) => step.reached && step.positionUpdateMs.p95 <= 1_000).at(-1)?.waiting ?? 0;
const report = {
  benchmark: 'scheduler-ceiling',
  date: new Date().toISOString(),
  machine: describeMachine(),
  seconds: Math.round((Date.now() - started) / 1000),
  settings: { steps, probes, teams: teamCount, users: userCount, slots: SLOTS, historyLimit, messagesPerSignal: PER_SIGNAL, giveUpMs },
  definitions: {
    handOverMs: 'continue-as-new is forced after each step (signals that change nothing until the history passes the limit): the old run recording it → the new run completing its first workflow task (unpacking the backlog)',
    carriedBytes: 'size of the input payload of the latest run started during the step (the state continue-as-new carried, without the waiting list, sealed by the codec); Temporal refuses more than 2 MB',
    largestResultBytes: 'the largest local activity result recorded during the step, sealed by the codec: a part of the waiting list a new run read back from PostgreSQL; Temporal refuses more than 2 MB',
    workflowTaskMs: 'WorkflowTaskStarted → WorkflowTaskCompleted event times of the tasks recorded during the step (the worker processing the task, replays included)',
    positionUpdateMs: 'a signal removing a waiting job ahead of the probe job sent → the first position query answer that shows the change (queries sent back to back)',
    failedWorkflowTasks: 'WorkflowTaskFailed events during the step, with their causes (UNHANDLED_COMMAND: a signal arrived during the task that continued as new; the run is replayed)',
    largestHeldWithin1s: 'the largest step reached with position updates within 1 s at p95',
  },
  verdict,
  largestHeldWithin1s: largestHeld,
  steps: results,
};
mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(path.join(repoRoot, 'bench/results/ceiling.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(`\n${verdict}; largest backlog with position updates within 1 s p95: ${largestHeld}`);
console.log('wrote bench/results/ceiling.json');
process.exit(0);

/** Position probes at the current backlog: the last job of one user watches jobs of its own user ahead of it leave. */
async function measure(target: number) {
  // Probe job: the newest, so every job of its user waits ahead of it.
  const watcher = request();
  const ahead = Array.from({ length: probes }, () => request());
  // Same user as the watcher, sent before it.
  for (const job of ahead) Object.assign(job, { teamId: watcher.teamId, userId: watcher.userId, tier: watcher.tier, tierPolicy: watcher.tierPolicy });
  await Promise.all([...ahead, watcher].map((enqueue) => sender.add({ enqueue })));
  await until(async () => (await scheduler.query(positionQuery, watcher.jobId)) !== null, `the probe job in a queue of ${target}`, STALL_MS);
  const queryMs: number[] = [];
  const updateMs: number[] = [];
  for (const job of ahead) {
    const before = await timed(() => scheduler.query(positionQuery, watcher.jobId));
    queryMs.push(before.ms);
    const sentAt = performance.now();
    await sender.add({ done: { jobId: job.jobId, ok: true } });
    for (;;) {
      const now = await scheduler.query(positionQuery, watcher.jobId);
      if (now?.position !== before.value?.position) break;
      if (performance.now() - sentAt > STALL_MS) throw new Error(`the probe's position did not change within ${STALL_MS} ms at ${target} waiting`);
    }
    updateMs.push(performance.now() - sentAt);
  }
  // The watcher leaves too: the backlog stays at the step's size.
  await sender.add({ done: { jobId: watcher.jobId, ok: true } });
  const stats = (list: number[]) => ({ p50: Math.round(percentile(list, 50)), p95: Math.round(percentile(list, 95)), max: Math.round(Math.max(...list)) });
  return { queryMs: { p50: stats(queryMs).p50, p95: stats(queryMs).p95 }, updateMs: stats(updateMs) };
}

/**
 * Makes the scheduler continue as new with the step's backlog: messages that change nothing (a
 * release by no job), one at a time, until its history passes the limit and a new run answers.
 */
async function continueAsNew(target: number): Promise<boolean> {
  const from = (await scheduler.describe()).runId;
  const begun = performance.now();
  while (performance.now() - begun < STALL_MS) {
    const { runId, status } = await scheduler.describe();
    if (status.name !== 'RUNNING') return false;
    if (runId !== from && (await scheduler.query(statusQuery).catch(() => null))?.waiting === target) return true;
    if (runId === from) await sender.add({ done: { jobId: 'nobody', ok: true } });
    else await sleep(100);
  }
  return false;
}

/**
 * The scheduler's events since the last call, across its runs (followed back from the latest run
 * through each run's predecessor): task times, failures, the latest carried payload.
 */
async function schedulerHistory() {
  const latest = (await scheduler.describe()).runId;
  const chain: HistoryEvent[][] = [];
  let latestLength = 0;
  for (let runId: string | undefined = latest; runId; ) {
    const events: HistoryEvent[] = (await client.workflow.getHandle(schedulerId, runId).fetchHistory()).events ?? [];
    if (runId === latest) latestLength = events.length;
    chain.unshift(runId === lastRun?.runId ? events.slice(lastRun.seen) : events);
    if (runId === lastRun?.runId) break;
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
  }
  lastRun = { runId: latest, seen: latestLength };
  const startedAt = new Map<string, number>();
  const taskMs: number[] = [];
  const causes = new Set<string>();
  let failed = 0;
  let carried: { bytes: number; waiting: number } | null = null;
  let largestResultBytes = 0;
  let continuedAsNew = 0;
  let continuedAt: number | null = null;
  let handOverMs: number | null = null;
  for (const events of chain) {
    for (const event of events) {
      const at = tsToMs(event.eventTime);
      if (event.workflowTaskStartedEventAttributes) startedAt.set(String(event.eventId), at);
      const completed = event.workflowTaskCompletedEventAttributes;
      if (completed) {
        const begun = startedAt.get(String(completed.startedEventId));
        if (begun !== undefined) taskMs.push(at - begun);
        if (continuedAt !== null) handOverMs = at - continuedAt;
        continuedAt = null;
      }
      if (event.workflowTaskFailedEventAttributes) {
        failed++;
        causes.add(proto.temporal.api.enums.v1.WorkflowTaskFailedCause[event.workflowTaskFailedEventAttributes.cause ?? 0] ?? 'unknown');
      }
      if (event.workflowExecutionContinuedAsNewEventAttributes) {
        continuedAsNew++;
        continuedAt = at;
      }
      const payload = event.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      if (payload?.data) {
        const [opened] = await dataConverter.payloadCodecs!.at(0)!.decode([payload]);
        const input = defaultPayloadConverter.fromPayload<SchedulerInput>(opened!);
        carried = { bytes: payload.data.length, waiting: input.waiting?.jobs ?? 0 };
      }
      for (const result of event.markerRecordedEventAttributes?.details?.result?.payloads ?? []) {
        largestResultBytes = Math.max(largestResultBytes, result.data?.length ?? 0);
      }
    }
  }
  return {
    carriedBytes: carried?.bytes ?? null,
    carriedAtWaiting: carried?.waiting ?? null,
    largestResultBytes,
    continuedAsNew,
    handOverMs,
    failedWorkflowTasks: failed,
    failureCauses: [...causes],
    workflowTaskMs: {
      p50: Math.round(percentile(taskMs, 50)),
      p95: Math.round(percentile(taskMs, 95)),
      max: taskMs.length ? Math.round(Math.max(...taskMs)) : Number.NaN,
    },
    historyEvents: latestLength,
  };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const begun = performance.now();
  const value = await work();
  return { value, ms: performance.now() - begun };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(200);
  }
}

function print(step: Step): void {
  const kb = step.carriedBytes === null ? '—' : `${Math.round(step.carriedBytes / 1024)} KB at ${step.carriedAtWaiting}`;
  console.log(
    `${String(step.waiting).padStart(7)} waiting${step.reached ? '' : ' (not reached)'}: carried ${kb}, largest part read back ${Math.round(step.largestResultBytes / 1024)} KB, ` +
      `workflow task p95 ${step.workflowTaskMs.p95} ms (max ${step.workflowTaskMs.max}), ` +
      `position update p95 ${step.positionUpdateMs.p95} ms, query p50 ${step.positionQueryMs.p50} ms, ` +
      `${step.continuedAsNew} continued as new (hand-over ${step.handOverMs ?? 'never'} ms), ${step.failedWorkflowTasks} failed tasks ${step.failureCauses.join(' ')}, ` +
      `${step.enqueuePerSecond} jobs/s taken, worker RSS ${step.workerRssMb} MB`,
  );
}

function quietLogger() {
  const nothing = () => undefined;
  return { trace: nothing, debug: nothing, info: nothing, warn: nothing, error: console.error, log: nothing };
}
