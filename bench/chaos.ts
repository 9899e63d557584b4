import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { repoRoot } from '../scripts/lib/paths';
import { startStack } from '../scripts/lib/stack';
import { createPrisma } from '../server/db/client';
import { loadStackEnv } from '../server/env';
import { backendIdFor } from '../server/llm/config';
import { createTemporalProvider } from '../server/temporal/client';
import { payloadDataConverter } from '../server/temporal/codec';
import { answerDigest, type Faults, type RequestRecord } from '../simulator';
import { startTcpProxy } from '../simulator/tcp-proxy';
import { jobWorkflowId } from '../workflows/definitions';
import { schedulerWorkflowId, statusQuery } from '../workflows/scheduler/api';
import { sendMalformedInputs, type MalformedReport } from './lib/malformed';
import { soak, type SoakReport } from './lib/soak';
import { round } from './lib/stats';

/**
 * Faults injected while jobs run, then the books checked: every job completed once, its text the
 * simulator's deterministic answer (nothing lost or doubled across cuts and resumes), every slot
 * back in the scheduler. The stack runs as the tests run it (sources through tsx, two workers, the
 * simulator) on its own PostgreSQL (a throwaway cluster, never DATABASE_URL's server: one scenario
 * kills it) and its own Temporal dev server with its state in a file (so that it can be killed and
 * started again), restarting a killed process as production's supervisor does. The second backend
 * is reached through a TCP proxy that can partition it from the workers.
 *
 * After the scenarios: generated malformed input over every tRPC procedure and socket event (no
 * 5xx, nothing written), then a soak at 100 users reporting each process's memory growth.
 *
 *   npm run chaos -- [--quick] [--jobs 200] [--inputs 10000] [--soak-minutes 30] [--only NAME]…
 *
 * --quick (CI, a few minutes): the scenarios in QUICK with 40 jobs each and 1,000 malformed
 * inputs, no soak, written to bench/results/quick/chaos.json so that a CI run leaves the full
 * run's bench/results/chaos.json alone. Exits 1 when the books do not balance, or when a
 * scenario's fault never struck (a cutting backend that cut nothing). --only runs the named parts
 * alone (a scenario, malformed-inputs or soak; repeat it for several); its results are written to
 * bench/results/only/chaos.json, so that a partial run overwrites neither full report.
 * --soak-minutes 0 leaves the soak out.
 */

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    jobs: { type: 'string' },
    inputs: { type: 'string' },
    'soak-minutes': { type: 'string', default: '30' },
    only: { type: 'string', multiple: true },
  },
});
const jobsPerScenario = Number(values.jobs ?? (values.quick ? 40 : 200));
const malformedInputs = Number(values.inputs ?? (values.quick ? 1_000 : 10_000));
const soakMinutes = Number(values['soak-minutes']);
if (!(soakMinutes >= 0)) throw new Error(`--soak-minutes must be 0 or more, got ${values['soak-minutes']}`);
const SOAK_USERS = 100;
const DEADLINE_MS = 15 * 60_000;
/**
 * What `--quick` runs, within about three minutes: a process, the Temporal server, a backend, the
 * malformed inputs. postgres-restart balances its books but costs about 37 s at 40 jobs, which
 * would take CI's run past its budget (bench/README.md, Chaos).
 */
const QUICK = ['worker-kill-9', 'temporal-kill-9', 'backend-cut-mid-stream', 'malformed-inputs'];

interface ScenarioResult {
  name: string;
  jobs: number;
  /** Jobs not completed by the deadline. */
  lost: number;
  /** Jobs whose workflow saved a result more than once (the Result row itself is unique per job). */
  duplicated: number;
  /** Completed jobs whose text is not the simulator's whole answer. */
  textMismatches: number;
  /** Leases and waiting entries left in the scheduler once every job finished. */
  leakedSlots: number;
  /** From the fault to the first job completing after it. */
  recoverySeconds: number;
  /** Jobs that had two model requests streaming at once (an attempt retried while the first still ran). */
  overlappingRequests: number;
  /** Streams the backends cut, for a scenario that cuts them: none means the fault never struck. */
  streamsCut?: number;
  /** Streams that fell silent, for the hanging backend. */
  streamsStalled?: number;
  /** Connections caught in the partition. */
  connectionsPartitioned?: number;
  /** A few of the jobs that did not complete: how they ended. */
  lostJobs?: { status: string; error: string | null }[];
  /** The killed process's pid and its successor's: a scenario whose process was never replaced did not strike. */
  restarted?: { before: number; after: number };
}

/** What healing found of the fault's work. */
type Healed = Pick<ScenarioResult, 'streamsCut' | 'streamsStalled' | 'connectionsPartitioned' | 'restarted'>;

const sessionSecret = randomBytes(32).toString('hex');

const stack = await startStack({
  mode: 'test',
  workers: 2,
  // Production's policy: a killed process is started again.
  restartCrashed: true,
  temporalFile: true,
  stackEnv: { ...loadStackEnv(), DATABASE_URL: undefined },
  env: { SESSION_SECRET: sessionSecret },
  echo: false,
  simInstances: 2,
  // About three seconds per answer on two backends of four slots: hundreds of jobs stay in flight.
  simArgs: ['--slots', '4', '--tps', '30', '--tokens', '90', '--ttft', '20', '--load-ms', '0'],
});
const prisma = createPrisma(stack.databaseUrl);
const temporal = await createTemporalProvider({
  address: stack.temporalAddress,
  namespace: stack.temporalNamespace,
  taskQueue: stack.taskQueue,
  dataConverter: payloadDataConverter(stack.encryptionKeys),
}).get();
const webUrl = stack.webUrl!;
// The workers reach the second backend through the proxy, as an admin's edit of its URL would have them.
const proxy = await startTcpProxy(new URL(stack.ollamaUrls[1]!));
await prisma.backend.update({ where: { id: backendIdFor('ollama', stack.ollamaUrls[1]!) }, data: { url: proxy.url } });

async function simulators<T>(route: string, init?: RequestInit): Promise<T[]> {
  return Promise.all(stack.ollamaUrls.map(async (url) => (await (await fetch(`${url}/_sim/${route}`, init)).json()) as T));
}
const setFaults = (faults: Partial<Faults>) =>
  simulators('faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
const setFaultsOf = async (instance: number, faults: Partial<Faults>) =>
  void (await fetch(`${stack.ollamaUrls[instance]}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) }));

async function signIn(email = 'demo@switchyard.dev', password = 'demo-password'): Promise<string> {
  const response = await fetch(`${webUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }),
  });
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error(`sign-in failed with ${response.status}`);
  return cookie;
}

async function submit(cookie: string, projectId: string, requirements: string): Promise<string> {
  const response = await fetch(`${webUrl}/trpc/jobs.submit`, {
    method: 'POST',
    headers: { origin: webUrl, cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ json: { projectId, requirements, clientKey: crypto.randomUUID(), priority: 'normal' } }),
  });
  if (response.status !== 200) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { result: { data: { json: { id: string } } } }).result.data.json.id;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function untilTrue(probe: () => Promise<boolean>, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true;
    await sleep(250);
  }
  return false;
}

/** Submits the scenario's jobs, strikes once some stream, then checks the books. */
async function scenario(name: string, strike: () => Promise<void>, heal: () => Promise<Healed> = async () => ({})): Promise<ScenarioResult> {
  const cookie = await signIn();
  const project = await prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
  const submittedAt = Date.now();
  const ids = await Promise.all(Array.from({ length: jobsPerScenario }, (_, i) => submit(cookie, project.id, `chaos ${name} ${i}: a function that reverses a string`)));
  const deadline = Date.now() + DEADLINE_MS;
  await untilTrue(async () => (await prisma.job.count({ where: { id: { in: ids }, status: 'running', output: { not: '' } } })) >= 4, deadline);
  const completedBefore = await prisma.job.count({ where: { id: { in: ids }, status: 'completed' } });
  const struckAt = Date.now();
  await strike();
  await untilTrue(async () => (await prisma.job.count({ where: { id: { in: ids }, status: 'completed' } })) > completedBefore, deadline);
  const recoverySeconds = round((Date.now() - struckAt) / 1000, 1);
  // A lasting fault (a backend cutting streams) stays on until every job is over.
  await untilTrue(async () => (await prisma.job.count({ where: { id: { in: ids }, status: { in: ['completed', 'failed', 'dead_letter', 'cancelled'] } } })) === ids.length, deadline);
  const healed = await heal();

  const jobs = await prisma.job.findMany({ where: { id: { in: ids } }, select: { id: true, status: true, output: true, error: true } });
  const requests = (await simulators<{ requests: RequestRecord[] }>('requests')).flatMap((r) => r.requests).filter((r) => r.arrivedAt >= submittedAt);
  const answers = new Set(requests.map((r) => r.answerDigest));
  const completed = jobs.filter((job) => job.status === 'completed');
  const scheduler = temporal.workflow.getHandle(schedulerWorkflowId(stack.taskQueue));
  let leakedSlots = Number.NaN;
  // Leases of finished jobs go back at once, or at the next lease check (30 s) for a job that never said so.
  await untilTrue(async () => {
    const status = await scheduler.query(statusQuery);
    leakedSlots = status.leases.length + status.waiting;
    return leakedSlots === 0;
  }, Date.now() + 90_000);
  const result: ScenarioResult = {
    name,
    jobs: ids.length,
    lost: ids.length - completed.length,
    duplicated: (await Promise.all(completed.map((job) => savedResults(job.id)))).filter((saves) => saves > 1).length,
    textMismatches: completed.filter((job) => !answers.has(answerDigest(job.output))).length,
    leakedSlots,
    recoverySeconds,
    overlappingRequests: overlapping(requests),
    ...healed,
  };
  const unfinished = jobs.filter((job) => job.status !== 'completed');
  if (unfinished.length > 0) result.lostJobs = unfinished.slice(0, 5).map((job) => ({ status: job.status, error: job.error }));
  console.log(JSON.stringify(result));
  return result;
}

/** How often the job's workflow completed its saveResult activity. */
async function savedResults(jobId: string): Promise<number> {
  const events = (await temporal.workflow.getHandle(jobWorkflowId(jobId)).fetchHistory()).events ?? [];
  const saves = new Set(
    events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'saveResult').map((event) => Number(event.eventId)),
  );
  return events.filter((event) => saves.has(Number(event.activityTaskCompletedEventAttributes?.scheduledEventId))).length;
}

/**
 * Jobs with two requests open at the same time: the requests of one conversation (a job's
 * generation across its cuts and resumes, or its review) share the digest of its whole answer, and
 * one that arrived before the previous one ended overlaps it. An end is when the simulator saw the
 * request close, a few milliseconds after the worker closed it; the next request follows only
 * after the failure reached Temporal and the next attempt was dispatched and acknowledged (a retry
 * on the same grant also waits out its 1 s backoff), so that lag does not count as overlap.
 */
function overlapping(requests: RequestRecord[]): number {
  const byJob = new Map<string, RequestRecord[]>();
  for (const request of requests) byJob.set(request.answerDigest, [...(byJob.get(request.answerDigest) ?? []), request]);
  let jobs = 0;
  for (const list of byJob.values()) {
    const sorted = list.toSorted((a, b) => a.arrivedAt - b.arrivedAt);
    let endedBy = -Infinity;
    let overlaps = false;
    for (const request of sorted) {
      if (request.arrivedAt < endedBy) overlaps = true;
      endedBy = Math.max(endedBy, request.endedAt);
    }
    if (overlaps) jobs++;
  }
  return jobs;
}

/** Kills the process group outright; the supervisor starts it again. Healing checks it did. */
function kill(child: string): { strike: () => Promise<void>; heal: () => Promise<Healed> } {
  let before = 0;
  return {
    strike: async () => {
      const process = stack.supervisor.child(child);
      if (!process?.pid) throw new Error(`no process named ${child}`);
      before = process.pid;
      process.killNow();
    },
    heal: async () => ({ restarted: { before, after: stack.supervisor.child(child)?.pid ?? 0 } }),
  };
}

async function simulatorTotal(counter: 'cuts' | 'stalls'): Promise<number> {
  return (await simulators<Record<typeof counter, number>>('stats')).reduce((sum, stats) => sum + stats[counter], 0);
}

/** Each scenario's fault, and how it is healed once every job is over. */
const faults: Record<string, { strike: () => Promise<void>; heal?: () => Promise<Healed> }> = {
  'worker-kill-9': kill('worker1'),
  'web-kill-9': kill('web'),
  // Its state is in a SQLite file: the server that starts again resumes every run.
  'temporal-kill-9': kill('temporal'),
  'postgres-restart': kill('db'),
  'backend-cut-mid-stream': {
    strike: () => setFaults({ cutRate: 0.3 }).then(() => undefined),
    heal: async () => {
      await setFaults({ cutRate: 0 });
      return { streamsCut: await simulatorTotal('cuts') };
    },
  },
  // The first backend answers, streams three tokens, then says nothing more, holding its slots.
  'backend-hang': {
    strike: () => setFaultsOf(0, { stallAfterTokens: 3 }),
    heal: async () => {
      await setFaultsOf(0, { stallAfterTokens: null });
      return { streamsStalled: await simulatorTotal('stalls') };
    },
  },
  // The workers lose the second backend: its bytes vanish, new connections are never answered.
  'backend-partition': {
    strike: async () => proxy.partition(),
    heal: async () => {
      proxy.heal();
      return { connectionsPartitioned: proxy.partitionedConnections };
    },
  },
};
const parts = [...Object.keys(faults), 'malformed-inputs', 'soak'];
const selected = values.only ?? (values.quick ? QUICK : parts.filter((part) => part !== 'soak' || soakMinutes > 0));
const unknown = selected.filter((name) => !parts.includes(name));
if (unknown.length > 0) throw new Error(`no scenario ${unknown.join(', ')}; there are ${parts.join(', ')}`);

const scenarios: ScenarioResult[] = [];
let malformed: MalformedReport | undefined;
let soaked: SoakReport | undefined;
try {
  // Many jobs from one user: the demo tier's caps would refuse most of them.
  await prisma.tier.updateMany({ data: { maxQueuedPerUser: 10_000, maxRunningPerUser: 1_000, tokenBudget: 0 } });
  for (const name of selected.filter((name) => name in faults)) scenarios.push(await scenario(name, faults[name]!.strike, faults[name]!.heal));
  if (selected.includes('malformed-inputs')) {
    const [team, project, job] = await Promise.all([
      prisma.team.findFirstOrThrow({ select: { id: true } }),
      prisma.project.findFirstOrThrow({ select: { id: true } }),
      prisma.job.findFirst({ select: { id: true } }),
    ]);
    malformed = await sendMalformedInputs({
      webUrl,
      databaseUrl: stack.databaseUrl,
      count: malformedInputs,
      member: await signIn(),
      admin: await signIn('admin@switchyard.dev', 'admin-password'),
      ids: [team.id, project.id, ...(job ? [job.id] : []), 'ollama@127.0.0.1:1'],
    });
    console.log(JSON.stringify(malformed));
  }
  if (selected.includes('soak')) {
    soaked = await soak(stack, { minutes: soakMinutes, users: SOAK_USERS, sessionSecret });
    console.log(JSON.stringify(soaked));
  }
} finally {
  const report = {
    command: `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim(),
    at: new Date().toISOString(),
    jobsPerScenario,
    scenarios,
    ...(malformed ? { malformedInputs: malformed } : {}),
    ...(soaked ? { soak: soaked } : {}),
  };
  const file = values.only ? 'bench/results/only/chaos.json' : values.quick ? 'bench/results/quick/chaos.json' : 'bench/results/chaos.json';
  mkdirSync(path.dirname(path.join(repoRoot, file)), { recursive: true });
  writeFileSync(path.join(repoRoot, file), `${JSON.stringify(report, null, 2)}\n`);
  await prisma.$disconnect();
  await temporal.connection.close();
  await proxy.close();
  await stack.stop();
}
const neverStruck = (s: ScenarioResult) =>
  s.streamsCut === 0 || s.streamsStalled === 0 || s.connectionsPartitioned === 0 || (s.restarted !== undefined && (s.restarted.after === 0 || s.restarted.after === s.restarted.before));
const failed = [
  ...scenarios.filter((s) => s.lost + s.duplicated + s.textMismatches + s.leakedSlots > 0 || neverStruck(s)).map((s) => s.name),
  ...(malformed && (malformed.serverErrors > 0 || malformed.socket.unanswered > 0 || malformed.written.length > 0) ? ['malformed-inputs'] : []),
  ...(soaked && soaked.jobsFailed > 0 ? ['soak'] : []),
];
console.log(failed.length === 0 ? `chaos: ${selected.length} parts, books balanced` : `chaos: books do not balance in ${failed.join(', ')}`);
process.exitCode = failed.length === 0 ? 0 : 1;
