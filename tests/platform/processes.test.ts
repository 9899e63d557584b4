import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/paths';
import { freePort } from '../../scripts/lib/ports';

/** The web and worker entry points as real processes, started with bad or unreachable settings. */

const running: ChildProcess[] = [];

function start(entry: 'server/main.ts' | 'server/worker.ts', env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, NODE_ENV: 'development', ...env },
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    exited: new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))),
    async waitFor(pattern: RegExp, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`never printed ${pattern}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

afterEach(() => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  }
});

const unreachable = { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none', TEMPORAL_ADDRESS: '127.0.0.1:1' };

describe('configuration errors', () => {
  it('stops with one line naming a missing variable', async () => {
    const web = start('server/main.ts', {});
    expect(await web.exited).toBe(1);
    expect(web.output().trim()).toBe('Configuration error: DATABASE_URL is missing.');
  });

  it('stops with one line naming an invalid variable and what is wrong', async () => {
    const web = start('server/main.ts', { ...unreachable, OLLAMA_URL: 'http://user:secret@gpu1:11434' });
    expect(await web.exited).toBe(1);
    expect(web.output().trim()).toBe('Configuration error: OLLAMA_URL is invalid (must not embed credentials).');
  });

  it('names the port and the variable when the port is taken', async () => {
    const port = await freePort();
    const blocker = net.createServer().listen(port, '127.0.0.1');
    try {
      const web = start('server/main.ts', { ...unreachable, PORT: String(port) });
      expect(await web.exited).toBe(1);
      expect(web.output()).toContain(`port ${port} is in use; set PORT to another port`);
    } finally {
      blocker.close();
    }
  });
});

describe('unreachable dependencies', () => {
  it('serves a clear degraded state, not a stack trace, while PostgreSQL and Temporal are down', async () => {
    const port = await freePort();
    const web = start('server/main.ts', { ...unreachable, PORT: String(port) });
    await web.waitFor(/web listening on/);
    const base = `http://127.0.0.1:${port}`;

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ ok: false, database: 'down', temporal: 'down' });

    expect((await fetch(`${base}/login`)).status).toBe(200);
    const signIn = await fetch(`${base}/login`, {
      method: 'POST',
      body: new URLSearchParams({ email: 'demo@switchyard.dev', password: 'demo-password' }),
    });
    const page = await signIn.text();
    expect(signIn.status).toBe(500);
    expect(page).toContain('Its database or job service may be down');
    expect(page).not.toMatch(/\n\s+at \S+ \(/);
  });

  it('keeps the worker retrying the Temporal connection with backoff, and says so', async () => {
    const worker = start('server/worker.ts', unreachable);
    await worker.waitFor(/Temporal at 127\.0\.0\.1:1 is unreachable .*retrying in 1s/);
    await worker.waitFor(/retrying in 2s/, 10_000);
    expect(worker.child.exitCode).toBeNull();
  });
});
