import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Ollama } from 'ollama';
import { repoRoot } from '../scripts/lib/paths';
import { createTemporalProvider } from '../server/temporal/client';
import { payloadDataConverter } from '../server/temporal/codec';
import { jobWorkflowId } from '../workflows/definitions';
import { schedulerWorkflowId } from '../workflows/scheduler/api';
import { parseBenchMode } from './lib/args';
import { BenchClient, createBenchTeam } from './lib/clients';
import { countHistories } from './lib/histories';
import { cpuBetween, stackUsage } from './lib/processes';
import { startBenchStack } from './lib/stack';
import { median, percentile, round } from './lib/stats';

/**
 * Orchestration overhead of a job: time from submit (tRPC over HTTP) to the job's completion
 * event (Socket.IO), minus the backend's own generation time, at several concurrencies; then
 * throughput with an instant backend. The whole stack runs as in production — web, worker,
 * Temporal, PostgreSQL, simulator — each its own process on this machine.
 *
 *   npm run bench:overhead -- [--mode prod|test] [--jobs 150] [--levels 1,10,50] [--seconds 20] [--profile DIR]
 *
 * --mode prod (the default) runs the build from `npm run build`; test runs the sources through tsx.
 * --profile writes V8 CPU profiles of the web and worker processes into DIR (open them in Chrome
 * DevTools) to see where the overhead goes.
 */

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '150' },
    levels: { type: 'string', default: '1,10,50' },
    seconds: { type: 'string', default: '20' },
    profile: { type: 'string' },
    mode: { type: 'string', default: 'prod' },
  },
});
const mode = parseBenchMode(values.mode);
const jobsPerLevel = Number(values.jobs);
const levels = values.levels.split(',').map(Number);
const instantSeconds = Number(values.seconds);
const MODEL = 'qwen2.5-coder:7b';
// "reverse a string" is a one-line request: no review step, one model call per job.
const REQUIREMENTS = 'reverse a string';
const TOKENS = 40;

const stack = await startBenchStack(mode, {
  echo: false,
  logFile: path.join(os.tmpdir(), `switchyard-bench-overhead-${process.pid}.log`),
  simInstances: 2,
  simArgs: ['--tps', '100', '--tokens', String(TOKENS), '--ttft', '100', '--slots', '100', '--queue', '1000', '--load-ms', '0'],
  env: {
    // The scheduler gets as many slots as the simulators serve at once (2 × 50 ≥ the highest
    // concurrency), so a job never waits for capacity: what is measured is orchestration alone.
    OLLAMA_SLOTS: '50',
    ...(values.profile
      ? {
          NODE_OPTIONS: `--import ${path.join(repoRoot, 'bench/lib/cpu-profile.mjs')}`,
          SWITCHYARD_CPU_PROFILE_DIR: path.resolve(values.profile),
        }
      : {}),
  },
});
const clients: BenchClient[] = [];

try {
  const team = await createBenchTeam(stack.databaseUrl, 10);
  for (const user of team.users) clients.push(await BenchClient.signIn(stack.webUrl!, user.email, user.password));
  // One listener for the project's events; the other clients only submit.
  await clients[0]!.join('project', team.projectId);
  const finishedAt = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  let failures = 0;
  let missedEvents = 0;
  clients[0]!.onJobUpdate((event) => {
    if (event.status === 'running' || event.status === 'queued') return;
    if (event.status !== 'completed') failures++;
    const waiter = waiters.get(event.jobId);
    if (waiter) waiter(performance.now());
    else finishedAt.set(event.jobId, performance.now());
  });

  /** One job, from submit to its completion event, in milliseconds. */
  async function runJob(client: BenchClient, jobIds?: string[]): Promise<number> {
    const started = performance.now();
    const job = await client.mutate<{ id: string }>('jobs.submit', {
      projectId: team.projectId,
      requirements: REQUIREMENTS,
      model: MODEL,
      clientKey: crypto.randomUUID(),
    });
    jobIds?.push(job.id);
    // The completion event may come before the submit's response; a missed event (a dropped
    // socket) is caught by polling the job, so no run waits forever.
    const at =
      finishedAt.get(job.id) ??
      (await new Promise<number>((resolve) => {
        waiters.set(job.id, resolve);
        const poll = setInterval(async () => {
          if (!waiters.has(job.id)) return clearInterval(poll);
          const { status } = await client.query<{ status: string }>('jobs.get', { jobId: job.id }).catch(() => ({ status: '' }));
          if (status && status !== 'queued' && status !== 'running') {
            missedEvents++;
            if (status !== 'completed') failures++;
            clearInterval(poll);
            resolve(performance.now());
          }
        }, 5_000);
      }));
    finishedAt.delete(job.id);
    waiters.delete(job.id);
    return at - started;
  }

  /** `concurrency` clients submit back to back until `total` jobs have finished. */
  async function closedLoop(concurrency: number, total: number) {
    const durations: number[] = [];
    let issued = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        const client = clients[i % clients.length]!;
        while (issued < total) {
          issued++;
          durations.push(await runJob(client));
        }
      }),
    );
    return { durations, seconds: (performance.now() - started) / 1000 };
  }

  // The backend's own time for one answer, measured the same way the worker calls it.
  const ollama = new Ollama({ host: stack.ollamaUrls[0]! });
  const generation: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    for await (const _ of await ollama.chat({ model: MODEL, stream: true, messages: [{ role: 'user', content: `${REQUIREMENTS} ${i}` }] })) {
      // drain
    }
    generation.push(performance.now() - t);
  }
  const generationMs = median(generation);
  console.log(`backend generation time (median of 10): ${round(generationMs)} ms`);

  await closedLoop(5, 20); // warm-up: JIT, connection pools, workflow cache
  const runs = [];
  for (const concurrency of levels) {
    const { durations, seconds } = await closedLoop(concurrency, Math.max(jobsPerLevel, concurrency * 3));
    const overhead = durations.map((d) => d - generationMs);
    const run = {
      concurrency,
      jobs: durations.length,
      p50Ms: round(percentile(overhead, 50)),
      p95Ms: round(percentile(overhead, 95)),
      p99Ms: round(percentile(overhead, 99)),
      endToEndP50Ms: round(percentile(durations, 50)),
      jobsPerSecond: round(durations.length / seconds, 2),
    };
    console.log(`concurrency ${concurrency}: overhead p50 ${run.p50Ms} ms, p95 ${run.p95Ms} ms, p99 ${run.p99Ms} ms; ${run.jobsPerSecond} jobs/s`);
    runs.push(run);
  }

  // Instant backend: the simulator paced 100× faster.
  for (const url of stack.ollamaUrls) {
    await fetch(`${url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ slowdownFactor: 0.01 }) });
  }
  const usageBefore = stackUsage();
  const instantFrom = Date.now();
  const instantJobIds: string[] = [];
  const { jobsPerSecond: instant, completed } = await closedLoopFor(50, instantSeconds, instantJobIds);
  const instantTo = Date.now();
  // Where the CPU goes per job: the machine's two cores are the budget every process shares.
  const cpuMsPerJob = Object.fromEntries(
    Object.entries(cpuBetween(usageBefore, stackUsage())).map(([role, seconds]) => [role, round((seconds * 1000) / completed, 1)]),
  );
  console.log(`instant backend, 50 concurrent: ${round(instant, 2)} jobs/s`);
  console.log(`CPU per job (ms): ${Object.entries(cpuMsPerJob).map(([role, ms]) => `${role} ${ms}`).join(', ')}`);

  // What Temporal recorded for those jobs: a sample of their histories, and the scheduler's.
  const temporal = await createTemporalProvider({ address: stack.temporalAddress, namespace: stack.temporalNamespace, taskQueue: stack.taskQueue, dataConverter: payloadDataConverter(stack.encryptionKeys) }).get();
  const histories = await countHistories(temporal, {
    jobWorkflowIds: instantJobIds.slice(-20).map(jobWorkflowId),
    schedulerWorkflowId: schedulerWorkflowId(stack.taskQueue),
    from: instantFrom,
    to: instantTo,
    jobsCompleted: completed,
  }).finally(() => temporal.connection.close());
  console.log(
    `history per job: ${histories.jobEvents} events, ${histories.jobWorkflowTasks} workflow tasks; ` +
      `scheduler per job: ${histories.schedulerEventsPerJob} events, ${histories.schedulerWorkflowTasksPerJob} workflow tasks`,
  );
  console.log(`one job's events: ${Object.entries(histories.jobEventTypes).map(([type, n]) => `${type} ${n}`).join(', ')}`);

  async function closedLoopFor(concurrency: number, seconds: number, jobIds: string[]) {
    let completed = 0;
    const deadline = performance.now() + seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        const client = clients[i % clients.length]!;
        while (performance.now() < deadline) {
          await runJob(client, jobIds);
          completed++;
        }
      }),
    );
    return { jobsPerSecond: completed / ((performance.now() - started) / 1000), completed };
  }

  const report = {
    benchmark: 'overhead',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30), node: process.version },
    generationMs: round(generationMs),
    runs,
    instantBackendJobsPerSecond: round(instant, 2),
    instantBackendCpuMsPerJob: cpuMsPerJob,
    mode,
    historyPerJob: histories,
    failedJobs: failures,
    completionEventsMissed: missedEvents,
  };
  const out = path.join(repoRoot, 'bench/results/overhead.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${path.relative(repoRoot, out)}`);
} finally {
  for (const client of clients) client.close();
  await stack.stop();
}
