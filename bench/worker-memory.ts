import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createKeyring, parseKeyList } from '../server/crypto/keyring';
import { createPrisma } from '../server/db/client';
import { createUrlAllowlist, DEFAULT_BACKEND_URL_ALLOWLIST, DEFAULT_WEBHOOK_URL_ALLOWLIST, WEBHOOK_URLS } from '../server/net/allowlist';
import { createServices } from '../server/services';
import { createTemporalProvider } from '../server/temporal/client';
import { payloadDataConverter } from '../server/temporal/codec';
import { repoRoot } from '../scripts/lib/paths';
import { freePort } from '../scripts/lib/ports';
import type { Stack } from '../scripts/lib/stack';
import { schedulerWorkflowId, statusQuery } from '../workflows/scheduler/api';
import { parseBenchMode } from './lib/args';
import { inPool, patiently, setSlowdown, until } from './lib/backlog';
import { createBenchWorkspace } from './lib/clients';
import { stackUsage } from './lib/processes';
import { startBenchStack } from './lib/stack';
import { round } from './lib/stats';
import { describeMachine } from './suite/machine';

/**
 * The worker's memory with a backlog: one worker process (the production worker, its two
 * workers) while `--jobs` jobs wait behind slots held by blockers, once per `--variant`, each on a
 * stack of its own, all at once. A variant is a name and the environment its worker gets on top
 * of the stack's: `--variant 'name:KEY=value;KEY=value'` (repeatable; `--variant default` is the
 * worker as it ships), for example `WORKER_CACHED_WORKFLOWS=2300` or
 * `NODE_OPTIONS=--max-semi-space-size=16`. Jobs are submitted through the job service in-process
 * (admission, row, workflow start). Per variant it samples the worker's RSS every second while the
 * backlog is submitted and then for `--settle-seconds`, splits the settled RSS (the main thread's
 * V8 heap from the worker's /metrics; anonymous and file-backed pages from /proc), and then lets
 * `--drain` of the waiting jobs run (the blockers cancelled), which a small cache makes replay
 * from their histories: the drain must complete for the variant to count. The worker's CPU per
 * submitted job and per drained job shows what a setting costs in throughput. Prints a line per
 * variant and writes bench/results/worker-memory.json.
 *
 *   npm run bench:memory -- [--variant name:KEY=value;…]… [--jobs 5000] [--users 500] [--teams 50]
 *     [--settle-seconds 30] [--drain 40] [--mode test|prod]
 */

const { values } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: ['default'] },
    jobs: { type: 'string', default: '5000' },
    users: { type: 'string', default: '500' },
    teams: { type: 'string', default: '50' },
    'settle-seconds': { type: 'string', default: '30' },
    drain: { type: 'string', default: '40' },
    mode: { type: 'string', default: 'test' },
  },
});
const whole = (flag: string, text: string | undefined) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a positive whole number, got ${text}`);
  return value;
};
const variants = (values.variant ?? []).map(parseVariant);
if (new Set(variants.map((variant) => variant.name)).size !== variants.length) throw new Error('--variant names must differ');
const jobs = whole('jobs', values.jobs);
const userCount = whole('users', values.users);
const teamCount = whole('teams', values.teams);
const settleSeconds = whole('settle-seconds', values['settle-seconds']);
const drain = Math.min(jobs, whole('drain', values.drain));
const mode = parseBenchMode(values.mode);
if (userCount % teamCount !== 0) throw new Error('--users must be a multiple of --teams');

const MODEL = 'qwen2.5-coder:7b';
const SLOTS = 4;
// Blockers wait this long for their first token (the HTTP client gives up after 5 minutes: see the drain).
const TTFT_MS = 20;
const BLOCKER_FIRST_TOKEN_MS = 3_600_000;
const started = Date.now();

interface Variant {
  name: string;
  /** On top of the stack's environment, for the worker process. */
  env: Record<string, string>;
}

interface Run extends Variant {
  /** Jobs the scheduler held waiting when the backlog settled: `--jobs`, or a few fewer if `blockersHeld` is false. */
  waiting: number;
  /** Whether the blockers still held every slot then. */
  blockersHeld: boolean;
  submitSeconds: number;
  /** The worker's RSS: highest sample from the first submit to the end of the settle period. */
  peakRssMb: number;
  /** The last sample of the settle period: what the backlog costs at rest. */
  settledRssMb: number;
  /** Highest sample while `drained` jobs ran. */
  /** Where the settled RSS is. */
  settled: MemorySplit;
  drainPeakRssMb: number;
  drained: number;
  drainSeconds: number;
  /** The worker's CPU (all threads) from the first submit until every job waited in the scheduler, per job. */
  submitCpuMsPerJob: number;
  /** The worker's CPU while `drained` jobs ran, per drained job. */
  drainCpuMsPerJob: number;
}

interface MemorySplit {
  /** The main thread's V8 heap (activities, clients, the SDK's JavaScript side): committed and used. */
  mainHeapTotalMb: number;
  mainHeapUsedMb: number;
  /** Memory outside the main thread's V8 heap that V8 knows of (Buffers, WebAssembly). */
  mainExternalMb: number;
  /** Anonymous pages: every heap (main thread, the two workflow threads), malloc (the Rust core, Node). */
  rssAnonMb: number;
  /** Pages backed by files: the node binary, the native addons, their libraries. */
  rssFileMb: number;
}

// Side by side, so that every variant meets the same load from the rest of the machine.
const runs: Run[] = await Promise.all(variants.map(measure));
for (const run of runs) {
  const { settled } = run;
  console.log(
    `${run.name}: ${run.waiting} waiting${run.blockersHeld ? '' : ' (a blocker lost its slot)'}, worker RSS peak ${run.peakRssMb} MB, settled ${run.settledRssMb} MB ` +
      `(anonymous ${settled.rssAnonMb}, files ${settled.rssFileMb}; main heap ${settled.mainHeapUsedMb} of ${settled.mainHeapTotalMb}, external ${settled.mainExternalMb}); ` +
      `${run.drained} drained in ${run.drainSeconds} s (RSS peak ${run.drainPeakRssMb} MB); ` +
      `worker CPU ${run.submitCpuMsPerJob} ms per submitted job, ${run.drainCpuMsPerJob} ms per drained job`,
  );
}

const report = {
  benchmark: 'worker-memory',
  date: new Date().toISOString(),
  machine: describeMachine(),
  seconds: Math.round((Date.now() - started) / 1000),
  settings: { jobs, users: userCount, teams: teamCount, slots: SLOTS, settleSeconds, drain, mode },
  definitions: {
    peakRssMb: "the worker process's resident memory (its two workers: jobs and scheduler), highest of 1 s samples from the first submit to the end of the settle period",
    settledRssMb: 'the last sample of the settle period, every job waiting and nothing arriving',
    settled: 'the settled RSS split: the main thread\'s V8 heap and external memory (process metrics from the worker\'s /metrics), anonymous and file-backed resident pages (/proc/<pid>/status)',
    drainPeakRssMb: "highest sample while the first `drained` waiting jobs got their grants and ran (evicted ones replayed from their histories)",
    submitCpuMsPerJob: "the worker process's CPU (user + system, all threads) from the first submit until every job waited in the scheduler, divided by the jobs",
    drainCpuMsPerJob: "the worker process's CPU while the first `drained` jobs ran, divided by them",
  },
  runs,
};
mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(path.join(repoRoot, 'bench/results/worker-memory.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log('wrote bench/results/worker-memory.json');
process.exit(0);

function parseVariant(text: string): Variant {
  const [name, assignments] = text.includes(':') ? [text.slice(0, text.indexOf(':')), text.slice(text.indexOf(':') + 1)] : [text, ''];
  if (!/^[\w.-]+$/.test(name)) throw new Error(`--variant ${text}: the name (before ':') must be letters, digits, '.', '-' or '_'`);
  const env = Object.fromEntries(
    assignments
      .split(';')
      .filter((assignment) => assignment.trim() !== '')
      .map((assignment) => {
        const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(assignment);
        if (!match) throw new Error(`--variant ${text}: expected KEY=value, got ${assignment}`);
        return [match[1]!, match[2]!];
      }),
  );
  return { name, env };
}

/** Resident pages of a process by kind, from /proc/<pid>/status (kB). */
function residentPages(pid: number): { rssAnonMb: number; rssFileMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) => Math.round(Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024);
  return { rssAnonMb: mb('RssAnon'), rssFileMb: mb('RssFile') + mb('RssShmem') };
}

/** The main thread's V8 heap and external memory, from the process metrics the worker serves. */
async function mainThreadMemory(url: string, token: string) {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  const text = await response.text();
  const mb = (metric: string) => {
    const match = new RegExp(`^${metric} (\\S+)`, 'm').exec(text);
    if (!match) throw new Error(`${url} has no ${metric}`);
    return Math.round(Number(match[1]) / 2 ** 20);
  };
  return { mainHeapTotalMb: mb('nodejs_heap_size_total_bytes'), mainHeapUsedMb: mb('nodejs_heap_size_used_bytes'), mainExternalMb: mb('nodejs_external_memory_bytes') };
}

async function measure(variant: Variant): Promise<Run> {
  const metricsPort = await freePort();
  const metricsToken = randomBytes(16).toString('hex');
  const stack: Stack = await startBenchStack(mode, {
    web: false,
    echo: false,
    logFile: path.join(os.tmpdir(), `switchyard-bench-memory-${process.pid}-${variant.name}.log`),
    simInstances: 1,
    simArgs: ['--slots', String(SLOTS), '--queue', '16', '--tps', '500', '--tokens', '20', '--ttft', String(TTFT_MS), '--load-ms', '0'],
    // No pipelining: the blockers alone hold the backend.
    env: {
      OLLAMA_SLOTS: String(SLOTS),
      OLLAMA_PREFETCH: '0',
      MAX_WAITING_JOBS: '0',
      WORKER_METRICS_PORT: String(metricsPort),
      METRICS_TOKEN: metricsToken,
      ...variant.env,
    },
  });
  const prisma = createPrisma(stack.databaseUrl);
  const temporal = createTemporalProvider({
    address: stack.temporalAddress,
    namespace: stack.temporalNamespace,
    taskQueue: stack.taskQueue,
    dataConverter: payloadDataConverter(stack.encryptionKeys),
  });
  let sampler: NodeJS.Timeout | undefined;
  try {
    const sessionSecret = randomBytes(32).toString('hex');
    const services = createServices({
      prisma,
      temporal,
      sessionSecret,
      defaultModel: MODEL,
      temporalUiUrl: '',
      maxTeamsPerUser: 0,
      maxWaitingJobs: 0,
      keyring: createKeyring(parseKeyList(`bench:${randomBytes(32).toString('base64')}`)),
      backendUrls: createUrlAllowlist(DEFAULT_BACKEND_URL_ALLOWLIST),
      webhookUrls: createUrlAllowlist(DEFAULT_WEBHOOK_URL_ALLOWLIST, { purpose: WEBHOOK_URLS }),
    });
    const scheduler = (await temporal.get()).workflow.getHandle(schedulerWorkflowId(stack.taskQueue));
    const [blockerTeam, ...teams] = await createBenchWorkspace(stack.databaseUrl, {
      slug: 'memory',
      tiers: [
        { name: 'memory-blocker', maxRunningPerUser: SLOTS },
        { name: 'memory-jobs', maxRunningPerUser: 1 },
      ],
      teams: [
        { tier: 'memory-blocker', projects: 1, users: 1 },
        ...Array.from({ length: teamCount }, () => ({ tier: 'memory-jobs', projects: 1, users: userCount / teamCount })),
      ],
      sessionSecret,
    });
    const users = teams.flatMap((team) => team.users.map((user) => ({ user, projectId: team.projectIds[0]! })));
    const submit = (user: (typeof users)[number]['user'], projectId: string, key: string) =>
      services.jobs.submit(user, { projectId, requirements: 'reverse a string', model: MODEL, priority: 'normal', clientKey: key }).then((job) => job.id);

    await setSlowdown(stack, BLOCKER_FIRST_TOKEN_MS / TTFT_MS);
    const blocker = blockerTeam!.users[0]!;
    const blockers = await Promise.all(Array.from({ length: SLOTS }, (_, i) => submit(blocker, blockerTeam!.projectIds[0]!, `blocker-${i}`)));
    const blocking = async () => (await prisma.job.count({ where: { id: { in: blockers }, status: 'running' } })) === SLOTS;
    await until(blocking, 'the blockers to hold every slot', 120_000);

    let peak = 0;
    let last = 0;
    const pids = stack.supervisor.processes().flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
    const usage = () => stackUsage({ processes: pids }).worker;
    const workerPid = stack.supervisor.child('worker')?.pid;
    if (workerPid === undefined) throw new Error('no worker process in the stack');
    const sample = () => {
      last = Math.round(usage().rssMb);
      peak = Math.max(peak, last);
    };
    const submitCpu = usage().cpuSeconds;
    sampler = setInterval(sample, 1_000);
    const submitStarted = performance.now();
    const jobIds: string[] = new Array(jobs);
    await inPool(jobs, 8, async (j) => {
      const { user, projectId } = users[j % users.length]!;
      jobIds[j] = await submit(user, projectId, `job-${j}`);
    });
    const submitSeconds = round((performance.now() - submitStarted) / 1000);
    // Every job waiting, or (on a machine so loaded that a blocker's retries timed out first and
    // jobs behind it got its slot) every job accounted for: waiting, or holding a slot, or ended.
    const settledBacklog = async () => {
      const { waiting } = await patiently(() => scheduler.query(statusQuery));
      const elsewhere = await prisma.job.count({ where: { id: { in: jobIds }, status: { not: 'queued' } } });
      return waiting === jobs || (waiting > 0 && waiting + elsewhere >= jobs);
    };
    await until(settledBacklog, `all ${jobs} jobs queued in the scheduler`, 2_400_000);
    const waiting = (await patiently(() => scheduler.query(statusQuery))).waiting;
    const submitCpuMsPerJob = round(((usage().cpuSeconds - submitCpu) * 1000) / jobs);
    await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000));
    sample();
    // The slowdown stays until the drain: a blocker's request fails at the HTTP client's 5-minute
    // header timeout and is retried once on its slot, so the backlog has about 10 minutes to queue
    // before a blocker gives its slot to a job (which the slowdown then holds in turn).
    const blockersHeld = await blocking();
    const peakRssMb = peak;
    const settledRssMb = last;
    const settled = { ...(await mainThreadMemory(`http://127.0.0.1:${metricsPort}/metrics`, metricsToken)), ...residentPages(workerPid) };

    // The jobs that waited longest left the cache first: the first grants go to replayed workflows.
    peak = 0;
    const drainCpu = usage().cpuSeconds;
    const drainStarted = performance.now();
    await setSlowdown(stack, 1);
    await Promise.all(blockers.map((id) => services.jobs.cancel(blocker, id)));
    const completed = () => prisma.job.count({ where: { id: { in: jobIds }, status: 'completed' } });
    await until(async () => (await completed()) >= drain, `${drain} of the waiting jobs to complete`, 900_000);
    sample();
    return {
      ...variant,
      waiting,
      blockersHeld,
      submitSeconds,
      peakRssMb,
      settledRssMb,
      settled,
      drainPeakRssMb: peak,
      drained: drain,
      drainSeconds: round((performance.now() - drainStarted) / 1000),
      submitCpuMsPerJob,
      drainCpuMsPerJob: round(((usage().cpuSeconds - drainCpu) * 1000) / drain),
    };
  } finally {
    clearInterval(sampler);
    await temporal.close();
    await prisma.$disconnect();
    await stack.stop();
  }
}
