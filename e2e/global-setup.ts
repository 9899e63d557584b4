import fs from 'node:fs';
import path from 'node:path';
import type { FullConfig } from '@playwright/test';
import { repoRoot } from '../scripts/lib/paths';
import { startStack } from '../scripts/lib/stack';

/**
 * Starts the whole stack in test mode for the run and hands its coordinates to the test workers
 * through their environment (workers are forked after this runs). Returns the teardown.
 */
export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  const started = Date.now();
  const logDir = path.join(repoRoot, 'e2e', 'artifacts');
  fs.mkdirSync(logDir, { recursive: true });
  pruneOldLogs(logDir);
  const logFile = path.join(logDir, `stack-${process.pid}.log`);
  // Only the supervisor's own lines reach the terminal; every process's output goes to the log file.
  const stack = await startStack({ mode: 'test', logFile, echo: (name) => name === 'sup' || name === 'stack' });
  // Writing (not reading) the environment: this is how Playwright passes data from global setup to workers.
  process.env.E2E_BASE_URL = stack.webUrl;
  process.env.DATABASE_URL = stack.databaseUrl;
  console.log(`e2e stack up in ${((Date.now() - started) / 1000).toFixed(1)}s at ${stack.webUrl} (logs: ${path.relative(repoRoot, logFile)})`);
  return async () => {
    await stack.stop();
    const failed = stack.supervisor.failed;
    if (failed) console.error(`e2e stack: ${failed}; see ${logFile}`);
  };
}

// Logs are kept for reading after a failed run (the teardown cannot tell); a day is plenty.
function pruneOldLogs(dir: string): void {
  const cutoff = Date.now() - 24 * 3600_000;
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    if (/^stack-\d+\.log$/.test(name) && fs.statSync(file).mtimeMs < cutoff) fs.rmSync(file, { force: true });
  }
}
