import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../scripts/lib/paths';
import { startStack } from '../../scripts/lib/stack';
import { createBenchWorkspace, type BenchWorkspaceTeam } from '../lib/clients';
import { burst, steady, type Arrivals } from './arrivals';
import { waitForIdleBackends } from './backend-monitor';
import { scenarioCapMs, simArgs, suiteConfig } from './config';
import { describeMachine } from './machine';
import { writeResults, type SuiteResults } from './report';
import { runScenario, type Design, type ScenarioContext, type ScenarioResult } from './scenario';
import { TrpcHttp } from './trpc-http';

/**
 * `npm run bench [-- --quick] [--max-minutes N] [--levels 1000,5000]`: the seed's claim about concurrency, measured. For each level of
 * concurrent users, the direct-call design and Switchyard serve the same users on the same
 * simulated Ollama pool; then both take a steady stream of arrivals. Writes
 * bench/results/{summary.json,report.md,*.svg} (quick: bench/results/quick/, --levels: bench/results/levels-…/). The stack (PostgreSQL, Temporal, simulator,
 * worker, web) runs as separate processes and is stopped at the end, on failure and on Ctrl-C.
 * --max-minutes shortens the caps of the last scenarios so that the whole run ends in time.
 * --levels runs only the burst levels given (after the warm-up, without the steady scenario), to
 * look at one level on its own. A scenario during which a process of the stack dies stops at once
 * and is reported as failed, with the reason; the run ends there (exit code 1).
 */

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, 'max-minutes': { type: 'string' }, levels: { type: 'string' } },
});
const config = suiteConfig(values.quick ? 'quick' : 'full');
const chosenLevels = values.levels?.split(',').map((level) => Number(level.trim()));
if (chosenLevels?.some((users) => !Number.isInteger(users) || users <= 0)) {
  throw new Error(`--levels must be positive whole numbers separated by commas, got "${values.levels}"`);
}
if (chosenLevels) config.levels = chosenLevels;
const runSteady = chosenLevels === undefined;
// Each kind of run keeps its own results: a quick or a one-level run never replaces the full run's.
const resultsDir = path.join(
  repoRoot,
  'bench/results',
  ...(values.quick ? ['quick'] : []),
  ...(chosenLevels ? [`levels-${chosenLevels.join('-')}`] : []),
);
const budgetMinutes = values['max-minutes'] === undefined ? Number.POSITIVE_INFINITY : Number(values['max-minutes']);
if (!(budgetMinutes > 0)) throw new Error(`--max-minutes must be a positive number, got "${values['max-minutes']}"`);
const runEndsAt = performance.now() + budgetMinutes * 60_000;
// Scenarios still to run after the current one each keep this much of the budget.
const RESERVE_PER_SCENARIO_MS = 90_000;
const scenarioCount = 2 * (1 + (runSteady ? 1 : 0) + config.levels.length);
let scenariosRun = 0;
const startedAt = new Date().toISOString();
const machine = describeMachine();
const sessionSecret = randomBytes(32).toString('hex');
const log = (line: string) => console.log(`[bench] ${line}`);

log(`${config.mode} run: levels ${config.levels.join(', ')}; ${runSteady ? `steady ${config.steady.perSecond}/s for ${config.steady.seconds} s` : 'no steady scenario'}`);
const stack = await startStack({
  mode: 'test',
  echo: false,
  logFile: path.join(os.tmpdir(), `switchyard-bench-suite-${process.pid}.log`),
  simInstances: config.sim.instances,
  simArgs: simArgs(config.sim),
  // Short jobs without a review: the workload pipelining is for (docs/scheduler.md, "Pipelining").
  env: { SESSION_SECRET: sessionSecret, OLLAMA_SLOTS: String(config.sim.slots), OLLAMA_PREFETCH: String(config.sim.slots) },
  handleSignals: true,
});
const api = new TrpcHttp(stack.webUrl!, config.httpSockets);

try {
  const context: ScenarioContext = {
    ollamaUrls: stack.ollamaUrls,
    webUrl: stack.webUrl!,
    api,
    processes: stack.supervisor.processes(),
    stackCrashed: stack.supervisor.crashed,
  };
  const run = async (design: Design, label: string, arrivals: Arrivals, teams?: BenchWorkspaceTeam[]) => {
    if (!(await waitForIdleBackends(stack.ollamaUrls, 120_000))) log('warning: the backends were still busy after 2 minutes');
    const ownCapMs = scenarioCapMs(config.sim, arrivals.length) + (arrivals.at(-1) ?? 0);
    const budgetMs = runEndsAt - performance.now() - RESERVE_PER_SCENARIO_MS * (scenarioCount - ++scenariosRun);
    const limit =
      ownCapMs <= budgetMs
        ? { capMs: ownCapMs, cause: 'scenario cap' as const }
        : { capMs: Math.max(budgetMs, 30_000), cause: 'run time budget' as const };
    log(`${label}: ${design}, ${arrivals.length} users (${limit.cause} ${Math.round(limit.capMs / 1000)} s)…`);
    const result = await runScenario(context, design, arrivals, limit, teams);
    if (result.failed) log(`${label}: ${design}: FAILED — ${result.failed}`);
    log(
      `${label}: ${design}: ${(result.completionRate * 100).toFixed(1)} % completed, p95 ${result.p95Ms} ms, ` +
        `${result.throughputPerSecond} jobs/s, utilisation ${result.utilization ?? '–'}, errors ${JSON.stringify(result.errors)}` +
        (design === 'switchyard' ? `, position update p95 ${result.positionUpdateP95Ms ?? '– (no queue:team events)'} ms` : ''),
    );
    return result;
  };
  // Teams of usersPerTeam on a tier without practical per-user caps: each user submits one job.
  const populate = (users: number, label: string) => {
    const slug = `${label}-${randomBytes(3).toString('hex')}`;
    const sizes = Array.from({ length: Math.ceil(users / config.usersPerTeam) }, (_, t) => Math.min(config.usersPerTeam, users - t * config.usersPerTeam));
    return createBenchWorkspace(stack.databaseUrl, {
      slug,
      tiers: [{ name: `${slug}-tier` }],
      teams: sizes.map((size) => ({ tier: `${slug}-tier`, projects: 1, users: size })),
      sessionSecret,
    });
  };

  // Steady arrivals first and the largest level last: results are written after every step, so
  // a run stopped early (Ctrl-C, a cap, a failure) still leaves the steps it finished.
  const results: SuiteResults = {
    config,
    machine,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt,
    finishedAt: '',
    levels: [],
    steady: undefined,
    failed: undefined,
  };
  const write = () => {
    results.finishedAt = new Date().toISOString();
    return writeResults(resultsDir, results);
  };
  // A scenario that failed ends the run: the stack is down. What ran is written, the failure named.
  const stopIfFailed = (label: string, design: Design, result: ScenarioResult) => {
    if (!result.failed) return;
    results.failed = { scenario: `${label}, ${design}`, reason: result.failed };
    write();
    throw new Error(`${label}: ${design} failed: ${result.failed}`);
  };

  // Loads the model on every instance and warms JIT, pools and the workflow cache.
  stopIfFailed('warm-up', 'baseline', await run('baseline', 'warm-up', burst(config.sim.instances)));
  stopIfFailed('warm-up', 'switchyard', await run('switchyard', 'warm-up', burst(config.sim.instances), await populate(config.sim.instances, 'warm')));

  if (runSteady) {
    const arrivals = steady(config.steady.perSecond, config.steady.seconds);
    const steadyBaseline = await run('baseline', 'steady', arrivals);
    stopIfFailed('steady', 'baseline', steadyBaseline);
    const steadySwitchyard = await run('switchyard', 'steady', arrivals, await populate(arrivals.length, 'steady'));
    results.steady = { ...config.steady, baseline: steadyBaseline, switchyard: steadySwitchyard };
    write();
    stopIfFailed('steady', 'switchyard', steadySwitchyard);
  }

  for (const users of config.levels) {
    const teams = await populate(users, `u${users}`);
    const baseline = await run('baseline', `${users} users`, burst(users));
    stopIfFailed(`${users} users`, 'baseline', baseline);
    const switchyard = await run('switchyard', `${users} users`, burst(users), teams);
    results.levels.push({ users, baseline, switchyard });
    write();
    stopIfFailed(`${users} users`, 'switchyard', switchyard);
  }
  log(`wrote ${write().map((file) => path.relative(repoRoot, file)).join(', ')}`);
} finally {
  api.close();
  await stack.stop();
}
