import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
import { JobCompletions } from './lib/completions';
import { measureObservabilityCost } from './lib/observability-cost';
import { cpuBetween, stackUsage } from './lib/processes';
import { countStatements } from './lib/sql-count';
import { startBenchStack } from './lib/stack';
import { median, percentile, round } from './lib/stats';
import { startBare, type BareSide } from './bare/run';

/**
 * Orchestration overhead of a job: time from submit (tRPC over HTTP) to the job's completion
 * event (Socket.IO), minus the backend's own generation time, at several concurrencies; then
 * throughput with an instant backend. The whole stack runs as in production — web, worker,
 * Temporal, PostgreSQL, simulator — each its own process on this machine.
 *
 * Beside it, on the same Temporal server and simulators, a bare workflow (bare/: one workflow, one
 * activity making the same model call, the SDK's defaults, nothing of Switchyard's): after each
 * concurrency level the bare workflow runs the same number of jobs, and with the instant backend
 * the two take turns in rounds (Switchyard first in even rounds, bare first in odd ones) so that
 * load drift on the machine falls on both. `cpuRatio` is the median over rounds of Switchyard's
 * CPU per job (web, worker, Temporal, PostgreSQL) over the bare workflow's (its process, Temporal).
 *
 *   npm run bench:overhead -- [--mode prod|test] [--jobs 150] [--levels 1,10,50] [--seconds 60] [--rounds 6] [--profile DIR]
 *                             [--observability-seconds 60] [--observability-rounds 10] [--only observability|orchestration]
 *
 * --mode prod (the default) runs the build from `npm run build`; test runs the sources through tsx.
 * --profile writes V8 CPU profiles of the web and worker processes into DIR (open them in Chrome
 * DevTools) to see where the overhead goes; the observability phase's into DIR/tracing-off and DIR/tracing-on.
 * Last, the CPU cost of tracing per job: two more stacks, tracing off then on (lib/observability-cost.ts).
 * --only observability runs just that and updates the report's `observability` in place;
 * --only orchestration runs everything else and keeps the report's `observability`.
 */

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '150' },
    levels: { type: 'string', default: '1,10,50' },
    seconds: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '6' },
    profile: { type: 'string' },
    mode: { type: 'string', default: 'prod' },
    'observability-seconds': { type: 'string', default: '60' },
    'observability-rounds': { type: 'string', default: '10' },
    only: { type: 'string' },
  },
});
const mode = parseBenchMode(values.mode);
if (values.only !== undefined && values.only !== 'observability' && values.only !== 'orchestration') throw new Error(`--only must be observability or orchestration, got ${values.only}`);
const jobsPerLevel = Number(values.jobs);
const levels = values.levels.split(',').map(Number);
const instantSeconds = Number(values.seconds);
const rounds = Number(values.rounds);
const MODEL = 'qwen2.5-coder:7b';
// "reverse a string" is a one-line request: no review step, one model call per job.
const REQUIREMENTS = 'reverse a string';
const TOKENS = 40;
const SIM_ARGS = ['--tps', '100', '--tokens', String(TOKENS), '--ttft', '100', '--slots', '100', '--queue', '1000', '--load-ms', '0'];
const out = path.join(repoRoot, 'bench/results/overhead.json');
/** The environment that makes a stack's Node processes write CPU profiles into `dir` (or into `dir/sub`). */
function profileEnv(dir: string | undefined, sub = ''): Record<string, string> {
  if (dir === undefined) return {};
  return { NODE_OPTIONS: `--import ${path.join(repoRoot, 'bench/lib/cpu-profile.mjs')}`, SWITCHYARD_CPU_PROFILE_DIR: path.resolve(dir, sub) };
}

const observabilityCost = async () => {
  const cost = await measureObservabilityCost(mode, {
    profileEnv: (tracing) => profileEnv(values.profile, tracing ? 'tracing-on' : 'tracing-off'),
    seconds: Number(values['observability-seconds']),
    rounds: Number(values['observability-rounds']),
    concurrency: 10,
    requirements: REQUIREMENTS,
    model: MODEL,
    simArgs: SIM_ARGS,
  });
  console.log(
    `observability: ${cost.off.totalCpuMsPerJob} ms CPU per job with tracing off, ${cost.on.totalCpuMsPerJob} ms on ` +
      `(${cost.on.spansPerJob} spans per job): tracing costs ${cost.tracingCostPercent} % ± ${cost.tracingCostSpread} ` +
        `(median of ${cost.rounds} paired rounds: ${cost.pairedCostPercent.join(', ')}; pooled ${cost.pooledCostPercent} %)`,
  );
  return { ...cost, mode, date: new Date().toISOString(), loadAverageAtStart: os.loadavg().map((load) => round(load, 1)) };
};
if (values.only === 'observability') {
  const report = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : { benchmark: 'overhead' };
  report.observability = await observabilityCost();
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`updated the observability figures in ${path.relative(repoRoot, out)}`);
  process.exit(0);
}

const logFile = path.join(os.tmpdir(), `switchyard-bench-overhead-${process.pid}.log`);
const stack = await startBenchStack(mode, {
  echo: false,
  logFile,
  simInstances: 2,
  simArgs: SIM_ARGS,
  env: {
    // The scheduler gets as many slots as the simulators serve at once (2 × 50 ≥ the highest
    // concurrency), so a job never waits for capacity: what is measured is orchestration alone.
    OLLAMA_SLOTS: '50',
    ...profileEnv(values.profile),
  },
});
const clients: BenchClient[] = [];
let bare: BareSide | undefined;
let report: Record<string, unknown> | undefined;

try {
  const team = await createBenchTeam(stack.databaseUrl, 10);
  for (const user of team.users) clients.push(await BenchClient.signIn(stack.webUrl!, user.email, user.password));
  // One listener for the project's events; the other clients only submit.
  await clients[0]!.join('project', team.projectId);
  const completions = new JobCompletions(clients[0]!);
  bare = await startBare({ address: stack.temporalAddress, namespace: stack.temporalNamespace, ollamaUrls: stack.ollamaUrls, model: MODEL });

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
    const at = await completions.ended(client, job.id);
    return at - started;
  }

  /** `concurrency` clients submit back to back until `total` jobs have been submitted, or `seconds` have passed. */
  async function closedLoop(concurrency: number, limit: { total?: number; seconds?: number }, jobIds?: string[]) {
    const durations: number[] = [];
    let issued = 0;
    const started = performance.now();
    const deadline = limit.seconds === undefined ? Infinity : started + limit.seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, i) => {
        const client = clients[i % clients.length]!;
        while ((limit.total === undefined || issued < limit.total) && performance.now() < deadline) {
          issued++;
          durations.push(await runJob(client, jobIds));
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

  const latency = (durations: number[], seconds: number) => {
    const overhead = durations.map((d) => d - generationMs);
    return {
      jobs: durations.length,
      p50Ms: round(percentile(overhead, 50)),
      p95Ms: round(percentile(overhead, 95)),
      p99Ms: round(percentile(overhead, 99)),
      endToEndP50Ms: round(percentile(durations, 50)),
      jobsPerSecond: round(durations.length / seconds, 2),
    };
  };
  const bareLoop = async (concurrency: number, limit: { jobs?: number; seconds?: number }) => {
    const started = performance.now();
    const { durations } = await bare!.run({ concurrency, ...limit, prompt: REQUIREMENTS });
    return { durations, seconds: (performance.now() - started) / 1000 };
  };

  // Warm-up of both: JIT, connection pools, workflow caches.
  await closedLoop(5, { total: 20 });
  await bareLoop(5, { jobs: 20 });
  const runs = [];
  for (const concurrency of levels) {
    const total = Math.max(jobsPerLevel, concurrency * 3);
    const switchyard = closedLoop(concurrency, { total }).then(({ durations, seconds }) => latency(durations, seconds));
    const run = { concurrency, ...(await switchyard), bare: await bareLoop(concurrency, { jobs: total }).then(({ durations, seconds }) => latency(durations, seconds)) };
    console.log(
      `concurrency ${concurrency}: overhead p50 ${run.p50Ms} ms, p95 ${run.p95Ms} ms, p99 ${run.p99Ms} ms; ${run.jobsPerSecond} jobs/s ` +
        `(bare workflow: p50 ${run.bare.p50Ms} ms, p95 ${run.bare.p95Ms} ms, p99 ${run.bare.p99Ms} ms; ${run.bare.jobsPerSecond} jobs/s)`,
    );
    runs.push(run);
  }

  // Instant backend: the simulator paced 100× faster. Switchyard and the bare workflow take turns.
  for (const url of stack.ollamaUrls) {
    await fetch(`${url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ slowdownFactor: 0.01 }) });
  }
  const STACK_ROLES = ['web', 'worker', 'temporal', 'postgres'] as const;
  const instantFrom = Date.now();
  const instantJobIds: string[] = [];
  const cpuSeconds: Record<string, number> = {};
  let completed = 0;
  let switchyardSeconds = 0;
  const bareTotals = { jobs: 0, seconds: 0, cpuSeconds: 0, temporalCpuSeconds: 0 };
  const perRound: { switchyardCpuMsPerJob: number; bareCpuMsPerJob: number; cpuRatio: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    const turn: { switchyard?: number; bare?: number } = {};
    const sides = [
      async () => {
        const before = stackUsage();
        const { durations, seconds } = await closedLoop(50, { seconds: instantSeconds / rounds }, instantJobIds);
        const spent = cpuBetween(before, stackUsage());
        for (const [role, s] of Object.entries(spent)) cpuSeconds[role] = (cpuSeconds[role] ?? 0) + s;
        completed += durations.length;
        switchyardSeconds += seconds;
        turn.switchyard = (STACK_ROLES.reduce((sum, role) => sum + spent[role], 0) * 1000) / durations.length;
      },
      async () => {
        const before = { stack: stackUsage(), bare: bare!.cpuSeconds() };
        const { durations, seconds } = await bareLoop(50, { seconds: instantSeconds / rounds });
        const temporal = cpuBetween(before.stack, stackUsage()).temporal;
        const own = bare!.cpuSeconds() - before.bare;
        Object.assign(bareTotals, {
          jobs: bareTotals.jobs + durations.length,
          seconds: bareTotals.seconds + seconds,
          cpuSeconds: bareTotals.cpuSeconds + own,
          temporalCpuSeconds: bareTotals.temporalCpuSeconds + temporal,
        });
        turn.bare = ((own + temporal) * 1000) / durations.length;
      },
    ];
    for (const side of r % 2 === 0 ? sides : sides.reverse()) await side();
    perRound.push({ switchyardCpuMsPerJob: round(turn.switchyard!), bareCpuMsPerJob: round(turn.bare!), cpuRatio: round(turn.switchyard! / turn.bare!, 2) });
    console.log(`round ${r + 1}: Switchyard ${round(turn.switchyard!)} ms CPU per job, bare workflow ${round(turn.bare!)} ms: ${round(turn.switchyard! / turn.bare!, 2)}×`);
  }
  const instantTo = Date.now();
  const instant = completed / switchyardSeconds;
  // Where the CPU goes per job: the machine's two cores are the budget every process shares.
  const cpuMsPerJob = Object.fromEntries(Object.entries(cpuSeconds).map(([role, seconds]) => [role, round((seconds * 1000) / completed, 1)]));
  const ratios = perRound.map((r) => r.cpuRatio);
  const bareCpu = {
    jobsPerSecond: round(bareTotals.jobs / bareTotals.seconds, 2),
    cpuMsPerJob: { bare: round((bareTotals.cpuSeconds * 1000) / bareTotals.jobs, 1), temporal: round((bareTotals.temporalCpuSeconds * 1000) / bareTotals.jobs, 1) },
    totalCpuMsPerJob: round(((bareTotals.cpuSeconds + bareTotals.temporalCpuSeconds) * 1000) / bareTotals.jobs, 1),
  };
  const switchyardTotal = round(STACK_ROLES.reduce((sum, role) => sum + (cpuMsPerJob[role] ?? 0), 0), 1);
  console.log(`instant backend, 50 concurrent: ${round(instant, 2)} jobs/s (bare workflow ${bareCpu.jobsPerSecond})`);
  console.log(`CPU per job (ms): ${Object.entries(cpuMsPerJob).map(([role, ms]) => `${role} ${ms}`).join(', ')}; bare workflow: its process ${bareCpu.cpuMsPerJob.bare}, temporal ${bareCpu.cpuMsPerJob.temporal}`);
  console.log(`cpuRatio ${median(ratios)} (median of ${rounds} rounds, ${Math.min(...ratios)}–${Math.max(...ratios)}); totals ${switchyardTotal} against ${bareCpu.totalCpuMsPerJob} ms`);

  // SQL statements per job, after the CPU rounds: statement logging costs PostgreSQL CPU of its own.
  const sql = await countStatements(stack.databaseUrl, logFile, async () => (await closedLoop(10, { total: 100 })).durations.length);
  console.log(`SQL statements per job: ${sql.statementsPerJob} (${sql.jobs} jobs); most frequent: ${sql.byStatement.slice(0, 12).map((s) => `${s.perJob} × ${s.statement}`).join('; ')}`);

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

  report = {
    benchmark: 'overhead',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30), node: process.version },
    loadAverageAtEnd: os.loadavg().map((load) => round(load, 1)),
    /** Switchyard's CPU per job (web, worker, Temporal, PostgreSQL) over the bare workflow's, median of the rounds. */
    cpuRatio: median(ratios),
    cpuRatioRange: [Math.min(...ratios), Math.max(...ratios)],
    generationMs: round(generationMs),
    runs,
    instantBackendJobsPerSecond: round(instant, 2),
    instantBackendCpuMsPerJob: cpuMsPerJob,
    instantBackendTotalCpuMsPerJob: switchyardTotal,
    bareWorkflow: bareCpu,
    rounds: perRound,
    mode,
    sqlStatementsPerJob: sql.statementsPerJob,
    sqlByStatement: sql.byStatement,
    historyPerJob: histories,
    failedJobs: completions.failures,
    completionEventsMissed: completions.missedEvents,
  };
} finally {
  for (const client of clients) client.close();
  await bare?.stop();
  await stack.stop();
}
if (values.only === 'orchestration') {
  const previous = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>) : {};
  if (previous.observability) report.observability = previous.observability;
} else {
  // On stacks of their own, once this one is gone.
  report.observability = await observabilityCost();
}
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${path.relative(repoRoot, out)}`);
