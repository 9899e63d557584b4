import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from './lib/paths';

/**
 * `npm test`: typecheck, lint, unit + integration (vitest), end-to-end (Playwright), in that order.
 * Every step runs even after a failure, so one run reports everything. Ends with a summary table
 * and `tests: N passed, N failed` (test cases of vitest + Playwright, from their JSON reports).
 */

interface Step {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Test-case counts from the step's JSON report. */
  count?: () => Counts | undefined;
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
  };
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
  },
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
  results.push({ step, ok, seconds, counts });
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
