import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './lib/paths';

/**
 * `npm test`: typecheck, lint, unit + integration (vitest), end-to-end (Playwright), the quick chaos
 * run, in that order.
 * Every step runs even after a failure, so one run reports everything. Ends with a summary table
 * and `tests: N passed, N failed` (test cases of vitest + Playwright, from their JSON reports), after
 * the failed (and flaky) tests by name.
 */

interface Step {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Test-case counts from the step's JSON report. */
  count?: () => Counts | undefined;
  /** The failed test cases named in the step's JSON report, one line each. */
  failures?: () => string[];
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

interface Result {
  step: Step;
  ok: boolean;
  seconds: number;
  counts: Counts | undefined;
  failures: string[];
}

const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-test-'));
const vitestReport = path.join(reportDir, 'vitest.json');
const ollamaReport = path.join(reportDir, 'ollama.json');
const playwrightReport = path.join(reportDir, 'playwright.json');
const bin = (name: string) => path.join(repoRoot, 'node_modules', '.bin', name);

function vitestStep(name: string, args: string[], report: string): Step {
  return {
    name,
    command: bin('vitest'),
    args: ['run', ...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    count: () => {
      const counts = readJson<{ numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number }>(report);
      return counts && { passed: counts.numPassedTests, failed: counts.numFailedTests, skipped: counts.numPendingTests + counts.numTodoTests };
    },
    failures: () => vitestFailures(readJson<VitestReport>(report)),
  };
}

interface VitestReport {
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{ fullName: string; status: string; failureMessages?: string[] }>;
  }>;
}

/** Failed tests, and files that failed outside any test (a hook, an import): the file and the first line of the error. */
function vitestFailures(report: VitestReport | undefined): string[] {
  if (!report) return [];
  return report.testResults.flatMap((file) => {
    const where = path.relative(repoRoot, file.name);
    const tests = file.assertionResults
      .filter((test) => test.status === 'failed')
      .map((test) => `${where} › ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
    if (tests.length === 0 && file.status === 'failed') return [`${where}: ${firstLine(file.message)}`];
    return tests;
  });
}

interface PlaywrightSuite {
  title: string;
  file?: string;
  suites?: PlaywrightSuite[];
  specs?: Array<{ title: string; file: string; line: number; tests: Array<{ status: string; results: Array<{ error?: { message?: string } }> }> }>;
}

/** Tests that failed every attempt, and ("flaky") those that passed only on a retry. */
function playwrightFailures(suites: PlaywrightSuite[] | undefined): string[] {
  return (suites ?? []).flatMap((suite) => [
    ...(suite.specs ?? []).flatMap((spec) =>
      spec.tests
        .filter((test) => test.status === 'unexpected' || test.status === 'flaky')
        .map((test) => {
          const error = test.results.find((result) => result.error)?.error?.message;
          return `${test.status === 'flaky' ? '(flaky, passed on retry) ' : ''}${spec.file}:${spec.line} › ${spec.title}: ${firstLine(error)}`;
        }),
    ),
    ...playwrightFailures(suite.suites),
  ]);
}

function firstLine(message: string | undefined): string {
  // Assertion messages carry ANSI colours; the summary is read in plain logs.
  // eslint-disable-next-line no-control-regex
  const line = (message ?? 'no message').replace(/\u001b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim()) ?? '';
  return line.trim().slice(0, 300);
}

const steps: Step[] = [
  // Incremental caches in .cache/ (git-ignored): a re-run checks only what changed.
  { name: 'typecheck', command: bin('tsc'), args: ['--noEmit', '--incremental', '--tsBuildInfoFile', '.cache/tsc.tsbuildinfo'] },
  { name: 'lint', command: bin('eslint'), args: ['--cache', '--cache-location', '.cache/eslint/', '.'] },
  vitestStep('unit + integration', [], vitestReport),
  // A real Ollama server built from its Go module (tests/ollama/): the adapters and the wire.
  vitestStep('real Ollama', ['--config', 'vitest.ollama.config.ts'], ollamaReport),
  {
    name: 'e2e',
    command: bin('playwright'),
    args: ['test', '--reporter=list,json'],
    env: { PLAYWRIGHT_JSON_OUTPUT_NAME: playwrightReport },
    count: () => {
      const report = readJson<{ stats: { expected: number; unexpected: number; flaky: number; skipped: number } }>(playwrightReport);
      return report && { passed: report.stats.expected + report.stats.flaky, failed: report.stats.unexpected, skipped: report.stats.skipped };
    },
    failures: () => playwrightFailures(readJson<{ suites: PlaywrightSuite[] }>(playwrightReport)?.suites),
  },
  // Faults while jobs run, then the books checked (bench/chaos.ts); fails when they do not balance.
  { name: 'chaos (quick)', command: process.execPath, args: ['--import', 'tsx', 'bench/chaos.ts', '--quick'] },
];

// Ctrl-C reaches the running step directly (same terminal process group); wait for it to clean up
// (the e2e step stops its stack), then skip the remaining steps.
let interrupted = false;
process.on('SIGINT', () => (interrupted = true));
process.on('SIGTERM', () => (interrupted = true));

const results: Result[] = [];
const started = Date.now();
for (const step of steps) {
  if (interrupted) break;
  console.log(`\n━━ ${step.name} ━━ ${[path.basename(step.command), ...step.args.filter((a) => !a.includes(reportDir))].join(' ')}`);
  const t = Date.now();
  const code = await run(step);
  const seconds = (Date.now() - t) / 1000;
  const counts = step.count?.();
  // A runner that crashed before reporting counts as a failure even when it exited 0.
  const ok = code === 0 && (!step.count || counts !== undefined);
  results.push({ step, ok, seconds, counts, failures: step.failures?.() ?? [] });
  console.log(`━━ ${step.name}: ${ok ? 'ok' : 'FAILED'} in ${seconds.toFixed(1)}s`);
}
fs.rmSync(reportDir, { recursive: true, force: true });

const passed = results.reduce((n, r) => n + (r.counts?.passed ?? 0), 0);
const failed = results.reduce((n, r) => n + (r.counts?.failed ?? 0), 0);
console.log('\nsummary');
const rows = results.map((r) => [
  r.step.name,
  r.ok ? 'ok' : 'FAILED',
  `${r.seconds.toFixed(1)}s`,
  r.counts ? `${r.counts.passed} passed, ${r.counts.failed} failed${r.counts.skipped ? `, ${r.counts.skipped} skipped` : ''}` : '',
]);
rows.push(['total', results.every((r) => r.ok) ? 'ok' : 'FAILED', `${((Date.now() - started) / 1000).toFixed(1)}s`, '']);
const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
for (const row of rows) console.log(`  ${row.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell)).join('  ')}`.trimEnd());
// Named again at the end, where a log cut to its last lines still shows them.
const failures = results.flatMap((r) => r.failures.map((line) => `  ${r.step.name}: ${line}`));
if (failures.length > 0) console.log(`\nfailed or flaky\n${failures.join('\n')}`);
if (interrupted) console.log('interrupted: remaining steps skipped');
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(!interrupted && results.every((r) => r.ok) ? 0 : 1);

function run(step: Step): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(step.command, step.args, {
      cwd: repoRoot,
      stdio: 'inherit',
      env: { ...process.env, ...step.env },
    });
    child.once('error', (error) => {
      console.error(`${step.name}: cannot run ${step.command}: ${error.message}`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
