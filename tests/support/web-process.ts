import { spawn } from 'node:child_process';
import { repoRoot } from '../../scripts/lib/paths';
import { freePort } from '../../scripts/lib/ports';
import { perFile } from './per-file';
import { temporalAddress, temporalNamespace, uniqueTaskQueue } from './temporal';

export interface WebProcess {
  url: string;
  /** Everything it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * The real web entry (server/main.ts: Express, Remix through Vite, tRPC, Socket.IO) as its own
 * process on a free port, against a test database and the run's Temporal server — for what only
 * the whole HTTP stack shows: status codes before a body is read, headers, pages. No worker runs.
 */
export async function startWebProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<WebProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: temporalNamespace(),
      TEMPORAL_TASK_QUEUE: uniqueTaskQueue('web'),
      ...env,
    },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await exited;
  };
  const deadline = Date.now() + 60_000;
  while (!/web listening on/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the web process did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `http://127.0.0.1:${port}`, output: () => output, stop };
}

/** Hook form: started before the file's tests, killed after them. */
export function useWebProcess(databaseUrl: () => string, env: Record<string, string> = {}): WebProcess {
  return perFile('useWebProcess()', () => startWebProcess(databaseUrl(), env), (web) => web.stop());
}
