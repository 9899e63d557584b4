import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from '../../scripts/lib/paths';
import { freePort } from '../../scripts/lib/ports';
import { perFile } from './per-file';
import { temporalAddress, temporalNamespace, uniqueTaskQueue } from './temporal';

export interface EntryProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>;
  /** Resolves once its output matches; throws if it exits or the time runs out first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Kills its whole process group and waits for it. */
  stop(): Promise<void>;
}

/**
 * A server entry point (server/main.ts, server/worker.ts) as a real process with only the given
 * environment (and PATH), in its own process group so a kill takes its children too.
 */
export function startEntry(entry: 'server/main.ts' | 'server/worker.ts', env: Record<string, string> & { NODE_ENV: 'development' | 'production' | 'test' }): EntryProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, ...env },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`never printed ${pattern}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      await exited;
    },
  };
}

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
  const web = startEntry('server/main.ts', {
    NODE_ENV: 'test',
    PORT: String(port),
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: temporalNamespace(),
    TEMPORAL_TASK_QUEUE: uniqueTaskQueue('web'),
    ...env,
  });
  try {
    await web.waitFor(/web listening on/);
  } catch (error) {
    await web.stop();
    throw new Error(`the web process did not start: ${(error as Error).message}`);
  }
  return { url: `http://127.0.0.1:${port}`, output: web.output, stop: web.stop };
}

/** Hook form: started before the file's tests, killed after them. */
export function useWebProcess(databaseUrl: () => string, env: Record<string, string> = {}): WebProcess {
  return perFile('useWebProcess()', () => startWebProcess(databaseUrl(), env), (web) => web.stop());
}
