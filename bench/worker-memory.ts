import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
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
 * workers) while `--jobs` jobs wait behind slots held by blockers, once per workflow cache size in
 * `--caches` (WORKER_CACHED_WORKFLOWS), each on a stack of its own, all at once. Jobs are submitted through the job
 * service in-process (admission, row, workflow start). Per size it samples the worker's RSS every
 * second while the backlog is submitted and then for `--settle-seconds`, and then lets `--drain`
 * of the waiting jobs run (the blockers cancelled), which a small cache makes replay from their
 * histories: the drain must complete for the size to count. Prints a line per size and writes
 * bench/results/worker-memory.json.
 *
 *   npm run bench:memory -- [--caches 2300,250] [--jobs 5000] [--users 500] [--teams 50]
 *     [--settle-seconds 30] [--drain 40] [--mode test|prod]
 *
 * 2,300 is what the SDK chose by itself before WORKER_CACHED_WORKFLOWS (about 0.6 × the heap
 * limit in MB, 4 GB here).
 */

const { values } = parseArgs({
  options: {
    caches: { type: 'string', default: '2300,250' },
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
const caches = (values.caches ?? '').split(',').map((size) => whole('caches', size));
const jobs = whole('jobs', values.jobs);
const userCount = whole('users', values.users);
const teamCount = whole('teams', values.teams);
const settleSeconds = whole('settle-seconds', values['settle-seconds']);
const drain = Math.min(jobs, whole('drain', values.drain));
const mode = parseBenchMode(values.mode);
if (userCount % teamCount !== 0) throw new Error('--users must be a multiple of --teams');

const MODEL = 'qwen2.5-coder:7b';
const SLOTS = 4;
// Blockers wait this long for their first token: far longer than the backlog takes to queue.
const TTFT_MS = 20;
const BLOCKER_FIRST_TOKEN_MS = 3_600_000;
const started = Date.now();

interface Run {
  cachedWorkflows: number;
  submitSeconds: number;
  /** The worker's RSS: highest sample from the first submit to the end of the settle period. */
  peakRssMb: number;
  /** The last sample of the settle period: what the backlog costs at rest. */
  settledRssMb: number;
  /** Highest sample while `drained` jobs ran. */
  drainPeakRssMb: number;
  drained: number;
  drainSeconds: number;
}

// Side by side, so that every size meets the same load from the rest of the machine.
const runs: Run[] = await Promise.all(caches.map(measure));
for (const run of runs) {
  console.log(
    `cache ${run.cachedWorkflows}: ${jobs} waiting, worker RSS peak ${run.peakRssMb} MB, settled ${run.settledRssMb} MB; ` +
      `${run.drained} drained in ${run.drainSeconds} s (RSS peak ${run.drainPeakRssMb} MB)`,
  );
}

const report = {
  benchmark: 'worker-memory',
  date: new Date().toISOString(),
  machine: describeMachine(),
  seconds: Math.round((Date.now() - started) / 1000),
  settings: { caches, jobs, users: userCount, teams: teamCount, slots: SLOTS, settleSeconds, drain, mode },
  definitions: {
    peakRssMb: "the worker process's resident memory (its two workers: jobs and scheduler), highest of 1 s samples from the first submit to the end of the settle period",
    settledRssMb: 'the last sample of the settle period, every job waiting and nothing arriving',
    drainPeakRssMb: "highest sample while the first `drained` waiting jobs got their grants and ran (evicted ones replayed from their histories)",
  },
  runs,
};
mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(path.join(repoRoot, 'bench/results/worker-memory.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log('wrote bench/results/worker-memory.json');
process.exit(0);

async function measure(cachedWorkflows: number): Promise<Run> {
  const stack: Stack = await startBenchStack(mode, {
    web: false,
    echo: false,
    logFile: path.join(os.tmpdir(), `switchyard-bench-memory-${process.pid}-${cachedWorkflows}.log`),
    simInstances: 1,
    simArgs: ['--slots', String(SLOTS), '--queue', '16', '--tps', '500', '--tokens', '20', '--ttft', String(TTFT_MS), '--load-ms', '0'],
    // No pipelining: the blockers alone hold the backend.
    env: { OLLAMA_SLOTS: String(SLOTS), OLLAMA_PREFETCH: '0', WORKER_CACHED_WORKFLOWS: String(cachedWorkflows), MAX_WAITING_JOBS: '0' },
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
    await until(async () => (await prisma.job.count({ where: { id: { in: blockers }, status: 'running' } })) === SLOTS, 'the blockers to hold every slot', 120_000);
    await setSlowdown(stack, 1);

    let peak = 0;
    let last = 0;
    const pids = stack.supervisor.processes().flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
    const sample = () => {
      last = Math.round(stackUsage({ processes: pids }).worker.rssMb);
      peak = Math.max(peak, last);
    };
    sampler = setInterval(sample, 1_000);
    const submitStarted = performance.now();
    const jobIds: string[] = new Array(jobs);
    await inPool(jobs, 8, async (j) => {
      const { user, projectId } = users[j % users.length]!;
      jobIds[j] = await submit(user, projectId, `job-${j}`);
    });
    const submitSeconds = round((performance.now() - submitStarted) / 1000);
    await until(async () => (await patiently(() => scheduler.query(statusQuery))).waiting === jobs, `all ${jobs} jobs queued in the scheduler`, 2_400_000);
    await new Promise((resolve) => setTimeout(resolve, settleSeconds * 1000));
    sample();
    const peakRssMb = peak;
    const settledRssMb = last;

    // The jobs that waited longest left the cache first: the first grants go to replayed workflows.
    peak = 0;
    const drainStarted = performance.now();
    await Promise.all(blockers.map((id) => services.jobs.cancel(blocker, id)));
    const completed = () => prisma.job.count({ where: { id: { in: jobIds }, status: 'completed' } });
    await until(async () => (await completed()) >= drain, `${drain} of the waiting jobs to complete`, 900_000);
    sample();
    return {
      cachedWorkflows,
      submitSeconds,
      peakRssMb,
      settledRssMb,
      drainPeakRssMb: peak,
      drained: drain,
      drainSeconds: round((performance.now() - drainStarted) / 1000),
    };
  } finally {
    clearInterval(sampler);
    await temporal.close();
    await prisma.$disconnect();
    await stack.stop();
  }
}
