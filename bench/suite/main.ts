import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../scripts/lib/paths';
import { startStack } from '../../scripts/lib/stack';
import { burst, steady, type Arrivals } from './arrivals';
import { waitForIdleBackends } from './backend-monitor';
import { scenarioCapMs, simArgs, suiteConfig } from './config';
import { describeMachine } from './machine';
import { createPopulation } from './population';
import { writeResults, type SuiteResults } from './report';
import { runScenario, type Design, type ScenarioContext } from './scenario';
import { TrpcHttp } from './trpc-http';

/**
 * `npm run bench [-- --quick] [--max-minutes N]`: the seed's claim about concurrency, measured. For each level of
 * concurrent users, the direct-call design and Switchyard serve the same users on the same
 * simulated Ollama pool; then both take a steady stream of arrivals. Writes
 * bench/results/{summary.json,report.md,*.svg}. The stack (PostgreSQL, Temporal, simulator,
 * worker, web) runs as separate processes and is stopped at the end, on failure and on Ctrl-C.
 * --max-minutes shortens the caps of the last scenarios so that the whole run ends in time.
 */

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'max-minutes': { type: 'string' } } });
const config = suiteConfig(values.quick ? 'quick' : 'full');
const budgetMinutes = values['max-minutes'] === undefined ? Number.POSITIVE_INFINITY : Number(values['max-minutes']);
if (!(budgetMinutes > 0)) throw new Error(`--max-minutes must be a positive number, got "${values['max-minutes']}"`);
const runEndsAt = performance.now() + budgetMinutes * 60_000;
// Scenarios still to run after the current one each keep this much of the budget.
const RESERVE_PER_SCENARIO_MS = 90_000;
const scenarioCount = 2 * (2 + config.levels.length);
let scenariosRun = 0;
const startedAt = new Date().toISOString();
const machine = describeMachine();
const sessionSecret = randomBytes(32).toString('hex');
const log = (line: string) => console.log(`[bench] ${line}`);

log(`${config.mode} run: levels ${config.levels.join(', ')}; steady ${config.steady.perSecond}/s for ${config.steady.seconds} s`);
const stack = await startStack({
  mode: 'test',
  echo: false,
  logFile: path.join(os.tmpdir(), `switchyard-bench-suite-${process.pid}.log`),
  simInstances: config.sim.instances,
  simArgs: simArgs(config.sim),
  env: { SESSION_SECRET: sessionSecret, OLLAMA_SLOTS: String(config.sim.slots), LOG_LEVEL: 'warn' },
  handleSignals: true,
});
const api = new TrpcHttp(stack.webUrl!, config.httpSockets);

try {
  const context: ScenarioContext = {
    ollamaUrls: stack.ollamaUrls,
    webUrl: stack.webUrl!,
    api,
    processes: stack.supervisor.processes(),
  };
  const run = async (design: Design, label: string, arrivals: Arrivals, population?: Awaited<ReturnType<typeof createPopulation>>) => {
    if (!(await waitForIdleBackends(stack.ollamaUrls, 120_000))) log('warning: the backends were still busy after 2 minutes');
    const ownCapMs = scenarioCapMs(config.sim, arrivals.length) + (arrivals.at(-1) ?? 0);
    const budgetMs = runEndsAt - performance.now() - RESERVE_PER_SCENARIO_MS * (scenarioCount - ++scenariosRun);
    const limit =
      ownCapMs <= budgetMs
        ? { capMs: ownCapMs, cause: 'scenario cap' as const }
        : { capMs: Math.max(budgetMs, 30_000), cause: 'run time budget' as const };
    log(`${label}: ${design}, ${arrivals.length} users (${limit.cause} ${Math.round(limit.capMs / 1000)} s)…`);
    const result = await runScenario(context, design, arrivals, limit, population);
    log(
      `${label}: ${design}: ${(result.completionRate * 100).toFixed(1)} % completed, p95 ${result.p95Ms} ms, ` +
        `${result.throughputPerSecond} jobs/s, utilisation ${result.utilization ?? '–'}, errors ${JSON.stringify(result.errors)}` +
        (design === 'switchyard' ? `, position update p95 ${result.positionUpdateP95Ms ?? '– (no queue:team events)'} ms` : ''),
    );
    return result;
  };
  const populate = (users: number, label: string) =>
    createPopulation(stack.databaseUrl, sessionSecret, users, config.usersPerTeam, `${label}-${randomBytes(3).toString('hex')}`);

  // Loads the model on every instance and warms JIT, pools and the workflow cache.
  await run('baseline', 'warm-up', burst(config.sim.instances));
  await run('switchyard', 'warm-up', burst(config.sim.instances), await populate(config.sim.instances, 'warm'));

  // Steady arrivals first and the largest level last: results are written after every step, so
  // a run stopped early (Ctrl-C, a cap) still leaves the steps it finished.
  const results: SuiteResults = {
    config,
    machine,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt,
    finishedAt: '',
    levels: [],
    steady: undefined,
  };
  const write = () => {
    results.finishedAt = new Date().toISOString();
    return writeResults(path.join(repoRoot, 'bench/results'), results);
  };

  const arrivals = steady(config.steady.perSecond, config.steady.seconds);
  const steadyBaseline = await run('baseline', 'steady', arrivals);
  const steadySwitchyard = await run('switchyard', 'steady', arrivals, await populate(arrivals.length, 'steady'));
  results.steady = { ...config.steady, baseline: steadyBaseline, switchyard: steadySwitchyard };
  write();

  for (const users of config.levels) {
    const population = await populate(users, `u${users}`);
    const baseline = await run('baseline', `${users} users`, burst(users));
    const switchyard = await run('switchyard', `${users} users`, burst(users), population);
    results.levels.push({ users, baseline, switchyard });
    write();
  }
  log(`wrote ${write().map((file) => path.relative(repoRoot, file)).join(', ')}`);
} finally {
  api.close();
  await stack.stop();
}
