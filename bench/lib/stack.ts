import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/lib/ports';
import { startStack, type Stack, type StackOptions } from '../../scripts/lib/stack';

export type BenchMode = 'prod' | 'test';

/**
 * The stack a benchmark measures. 'prod': the production build (`npm run build`) as `npm start`
 * runs it — NODE_ENV=production, no Vite in the web process, the prebuilt workflow bundle — but on
 * free 127.0.0.1 ports and in a throwaway data directory (removed at stop), so it touches nobody's
 * dev stack. 'test': the sources through tsx, as the tests run them.
 */
export async function startBenchStack(mode: BenchMode, options: Omit<StackOptions, 'mode' | 'ports' | 'dataDir'>): Promise<Stack> {
  if (mode === 'test') return startStack({ ...options, mode: 'test' });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-'));
  // PostgreSQL runs as another user when we are root and must enter it.
  fs.chmodSync(dataDir, 0o755);
  const remove = () => fs.rmSync(dataDir, { recursive: true, force: true });
  try {
    const ports = {
      web: await freePort(),
      temporal: await freePort(),
      temporalUi: await freePort(),
      postgres: await freePort(),
      sim: await freePort(),
    };
    // A crash is a result to report, not something to hide behind a restart mid-measurement.
    const stack = await startStack({ ...options, mode: 'prod', dataDir, ports, restartCrashed: false });
    return {
      ...stack,
      stop: async () => {
        await stack.stop();
        remove();
      },
    };
  } catch (error) {
    remove();
    throw error;
  }
}
