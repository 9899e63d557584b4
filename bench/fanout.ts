import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrisma } from '../server/db/client';
import { repoRoot } from '../scripts/lib/paths';
import type { Stack } from '../scripts/lib/stack';
import { BenchClient, createBenchWorkspace } from './lib/clients';
import type { FanoutCommand, FanoutReport } from './lib/fanout-client';
import { startBenchStack, type BenchMode } from './lib/stack';
import { memoryMb, openFileLimit } from './lib/proc';
import { cpuBetween, stackUsage } from './lib/processes';
import { median, percentile, round } from './lib/stats';
import { parseBenchArgs } from './lib/args';
import { runCapped } from './lib/time-cap';

/**
 * Socket.IO fan-out under load: N authenticated `socket.io-client` clients, each in one project
 * room and watching one job's room (as the job page does), while M jobs stream tokens through the
 * real path — simulator → worker → PostgreSQL adapter → web → clients. Token delay is measured per
 * received batch against the `sentAt` the worker stamps when it publishes. The clients live in
 * separate processes (--processes) so that their parsing neither shares the coordinator's event
 * loop nor is counted as the web's. Prints a table and writes bench/results/fanout.json.
 *
 *   npm run build && npm run bench:fanout -- [--clients 1000] [--projects 50] [--teams 10]
 *     [--jobs 100] [--processes 2] [--seconds 30] [--tps 10] [--mode prod|test] [--max-seconds 600]
 *
 * --mode prod (default) runs the production build on free ports (see bench/lib/stack.ts); test
 * runs the sources, with Vite's dev middleware in the web process.
 */

const { mode, config } = parseBenchArgs({ clients: 1000, projects: 50, teams: 10, jobs: 100, processes: 2, seconds: 30, tps: 10, 'max-seconds': 600 });
if (config.projects % config.teams !== 0) throw new Error('--projects must be a multiple of --teams (each team gets the same number of projects)');
if (config.clients % config.teams !== 0) throw new Error('--clients must be a multiple of --teams (each team gets the same number of users)');
if (config.jobs < config.projects) throw new Error('--jobs must be at least --projects, so that every client has a job to watch');
// Each socket is a file descriptor in the web process and in a client process.
const fdLimit = openFileLimit();
if (fdLimit < config.clients + 512) {
  throw new Error(`the open-file limit is ${fdLimit}; ${config.clients} sockets need about ${config.clients + 512}: raise it (ulimit -n) or lower --clients`);
}

const SLOTS_PER_INSTANCE = 25;
// Jobs must outlast the set-up (sign-in, joins, job start) and the measured window.
const SETUP_ALLOWANCE_S = 300;
const STREAM_WAIT_S = 240;
const REQUIREMENTS = 'reverse a string';
const SUBMIT_BATCH = 5;

const sessionSecret = randomBytes(32).toString('hex');
const children: ChildProcess[] = [];
const submitters: BenchClient[] = [];
let stack: Stack | undefined;
await runCapped('bench:fanout', config['max-seconds'], run, cleanup);

async function cleanup(): Promise<void> {
  for (const child of children) if (child.exitCode === null) child.kill();
  for (const client of submitters) client.close();
  await stack?.stop();
}

async function run(): Promise<void> {
  const instances = Math.ceil(config.jobs / SLOTS_PER_INSTANCE);
  const tokens = config.tps * (config.seconds + SETUP_ALLOWANCE_S);
  stack = await startBenchStack(mode as BenchMode, {
    echo: false,
    logFile: path.join(os.tmpdir(), `switchyard-bench-fanout-${process.pid}.log`),
    simInstances: instances,
    simArgs: ['--slots', String(SLOTS_PER_INSTANCE), '--queue', '100', '--tps', String(config.tps), '--tokens', String(tokens), '--ttft', '200', '--load-ms', '0'],
    env: { OLLAMA_SLOTS: String(SLOTS_PER_INSTANCE), SESSION_SECRET: sessionSecret },
  });
  const webUrl = stack.webUrl!;
  const webPid = stack.supervisor.processes().find((child) => child.name === 'web')!.pid!;
  console.log(`stack up: web ${webUrl} (pid ${webPid}), ${instances} simulator instances × ${SLOTS_PER_INSTANCE} slots`);

  const teams = await createBenchWorkspace(stack.databaseUrl, {
    slug: 'fanout',
    tiers: [{ name: 'fanout-tier' }],
    teams: Array.from({ length: config.teams }, () => ({
      tier: 'fanout-tier',
      projects: config.projects / config.teams,
      users: config.clients / config.teams,
    })),
    sessionSecret,
  });
  // Client c is user c / teams of team c % teams, on that team's projects in turn.
  const clients = Array.from({ length: config.clients }, (_, c) => {
    const team = teams[c % config.teams]!;
    const member = Math.floor(c / config.teams);
    return { cookie: team.users[member]!.cookie, projectId: team.projectIds[member % team.projectIds.length]! };
  });
  const projectIds = teams.flatMap((team) => team.projectIds);

  // Clients connect and join their project rooms before any job exists.
  const started = performance.now();
  const shares = Array.from({ length: config.processes }, (_, p) => clients.filter((_, c) => c % config.processes === p));
  for (const share of shares) {
    const child = fork(path.join(repoRoot, 'bench/lib/fanout-client.ts'), [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    children.push(child);
    child.send({ type: 'connect', baseUrl: webUrl, clients: share } satisfies FanoutCommand);
  }
  await Promise.all(children.map((child) => reply(child, 'connected')));
  const connectSeconds = (performance.now() - started) / 1000;
  console.log(`${config.clients} clients connected and in their project rooms in ${round(connectSeconds)} s (${config.processes} client processes)`);

  // Job j runs in project j % projects, submitted over tRPC by a member of its team.
  for (const team of teams) submitters.push(await BenchClient.connect(webUrl, team.users[0]!.cookie));
  // A few at a time: a hundred jobs starting in one burst is a start-up storm, not the steady
  // streaming this measures.
  const submitted: { projectId: string; jobId: string }[] = [];
  for (let j = 0; j < config.jobs; j += SUBMIT_BATCH) {
    const batch = Array.from({ length: Math.min(SUBMIT_BATCH, config.jobs - j) }, (_, k) => {
      const projectId = projectIds[(j + k) % projectIds.length]!;
      const submitter = submitters[teams.findIndex((team) => team.projectIds.includes(projectId))]!;
      return submitter
        .mutate<{ id: string }>('jobs.submit', { projectId, requirements: REQUIREMENTS, clientKey: `fanout-${j + k}`, priority: 'normal' })
        .then((job) => ({ projectId, jobId: job.id }));
    });
    submitted.push(...(await Promise.all(batch)));
  }
  const jobsByProject = new Map<string, string[]>(projectIds.map((id) => [id, []]));
  for (const { projectId, jobId } of submitted) jobsByProject.get(projectId)!.push(jobId);
  const jobIds = submitted.map((s) => s.jobId);
  const prisma = createPrisma(stack.databaseUrl);
  const running = () => prisma.job.count({ where: { id: { in: jobIds }, status: 'running' } });
  try {
    // On a loaded machine some jobs may be retrying (a missed heartbeat) rather than streaming:
    // measure once all stream, or after a while with those that do, and report how many.
    let streaming = 0;
    const waitUntil = Date.now() + STREAM_WAIT_S * 1000;
    await until(
      async () => {
        const now = await running();
        if (now !== streaming) console.log(`  ${(streaming = now)}/${config.jobs} jobs streaming`);
        return now === config.jobs || Date.now() > waitUntil;
      },
      'jobs to stream',
      SETUP_ALLOWANCE_S * 1000,
    );
    if (streaming === 0) throw new Error('no job is streaming; see the stack log');
    if (streaming < config.jobs) console.log(`  measuring with ${streaming} of ${config.jobs} jobs streaming (the rest are still starting or retrying)`);
    const streamingAtStart = streaming;

    // Each client watches one job of its project, the project's jobs taken in turn.
    const watched = clients.map(({ projectId }, c) => {
      const jobs = jobsByProject.get(projectId)!;
      return jobs[Math.floor(c / projectIds.length) % jobs.length]!;
    });
    children.forEach((child, p) =>
      child.send({ type: 'watch', jobIds: watched.filter((_, c) => c % config.processes === p) } satisfies FanoutCommand),
    );
    await Promise.all(children.map((child) => reply(child, 'watching')));
    console.log(`every client watches a job; measuring for ${config.seconds} s`);

    const since = Date.now();
    for (const child of children) child.send({ type: 'measure', since } satisfies FanoutCommand);
    const usageBefore = stackUsage();
    const rssBefore = memoryMb(webPid).rss;
    let rssMax = rssBefore;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, memoryMb(webPid).rss)), 250);
    await new Promise((resolve) => setTimeout(resolve, config.seconds * 1000));
    clearInterval(sampler);
    const measuredSeconds = (Date.now() - since) / 1000;
    const cpu = cpuBetween(usageBefore, stackUsage());
    const webCpuSeconds = cpu.web;
    const { peak } = memoryMb(webPid);
    const streamingAtEnd = await running();

    const results = await Promise.all(
      children.map((child) => {
        const result = reply(child, 'result');
        child.send({ type: 'stop' } satisfies FanoutCommand);
        return result;
      }),
    );
    const delays = results.flatMap((r) => r.delaysMs);
    const withoutSentAt = results.reduce((sum, r) => sum + r.batchesWithoutSentAt, 0);
    if (delays.length === 0) {
      throw new Error(withoutSentAt > 0 ? 'token batches carry no sentAt: the worker does not stamp them' : 'no token batch reached any client');
    }
    report({
      clients: config.clients,
      projects: config.projects,
      jobs: config.jobs,
      jobsStreamingAtStart: streamingAtStart,
      jobsStreamingAtEnd: streamingAtEnd,
      durationSeconds: round(measuredSeconds),
      tokenDelayMs: {
        p50: percentile(delays, 50),
        p95: percentile(delays, 95),
        p99: percentile(delays, 99),
        max: percentile(delays, 100),
      },
      batchesReceived: delays.length,
      batchesReceivedPerSecond: round(delays.length / measuredSeconds),
      batchesWithoutSentAt: withoutSentAt,
      webCpuSeconds: round(webCpuSeconds, 2),
      webCpuCores: round(webCpuSeconds / measuredSeconds, 2),
      webRssMb: round(peak),
      cpuSecondsByProcess: Object.fromEntries(Object.entries(cpu).map(([role, seconds]) => [role, round(seconds, 2)])),
      webRssAtMeasureStartMb: round(rssBefore),
      webRssMaxDuringMeasureMb: round(rssMax),
      connectSeconds: round(connectSeconds),
      clientProcesses: results.map((r) => ({
        cpuCores: round(r.cpuSeconds / measuredSeconds, 2),
        loopDelayP99Ms: round(r.loopDelayP99Ms),
        loopDelayMaxMs: round(r.loopDelayMaxMs),
        reconnects: r.reconnects,
      })),
    });
  } finally {
    await prisma.$disconnect();
  }
}

function reply<T extends FanoutReport['type']>(child: ChildProcess, type: T): Promise<Extract<FanoutReport, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FanoutReport) => {
      if (message.type === 'error') done(() => reject(new Error(`client process: ${message.message}`)));
      else if (message.type === type) done(() => resolve(message as Extract<FanoutReport, { type: T }>));
    };
    const onExit = (code: number | null) => done(() => reject(new Error(`a client process exited (code ${code}) while waiting for "${type}"`)));
    const done = (settle: () => void) => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      settle();
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function until(probe: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function report(figures: Record<string, unknown> & { tokenDelayMs: Record<string, number>; webRssMb: number }): void {
  const out = path.join(repoRoot, 'bench/results/fanout.json');
  const result = {
    benchmark: 'fanout',
    date: new Date().toISOString(),
    mode,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30), node: process.version, loadAverage: os.loadavg().map((l) => round(l, 2)) },
    ...figures,
    targets: { tokenDelayP95Ms: 150, webRssMb: 400 },
    notes: [
      'Token delay: client receive time minus the worker\'s sentAt (both Date.now() on this machine), over batches published during the measured window.',
      mode === 'prod'
        ? 'Web RSS is the peak (VmHWM) of the web process since it started, running the production build (NODE_ENV=production).'
        : 'Web RSS is the peak (VmHWM) of the web process since it started; in test mode it has Vite\'s dev middleware loaded, which a production web process does not.',
      'Everything (PostgreSQL, Temporal, worker, web, simulator, client processes) shares this machine, which other engineers also use: figures are lower bounds.',
    ],
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const delay = figures.tokenDelayMs;
  console.table({
    'token delay p50 (ms)': { value: delay.p50, target: '' },
    'token delay p95 (ms)': { value: delay.p95, target: '≤ 150' },
    'token delay p99 (ms)': { value: delay.p99, target: '' },
    'batches received': { value: figures.batchesReceived, target: '' },
    'web CPU (s)': { value: figures.webCpuSeconds, target: '' },
    'web RSS peak (MB)': { value: figures.webRssMb, target: '≤ 400' },
  });
  console.log(`median client loop delay p99: ${median((figures.clientProcesses as { loopDelayP99Ms: number }[]).map((c) => c.loopDelayP99Ms))} ms`);
  console.log(`wrote ${path.relative(repoRoot, out)}`);
}
