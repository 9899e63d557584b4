import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports';
import { startEntry, type EntryProcess } from '../support/web-process';

/** The web and worker entry points as real processes, started with bad or unreachable settings. */

const running: EntryProcess[] = [];

function start(entry: 'server/main.ts' | 'server/worker.ts', env: Record<string, string>): EntryProcess {
  const process = startEntry(entry, { NODE_ENV: 'development', ...env });
  running.push(process);
  return process;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((process) => process.stop()));
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
    await web.waitFor(/web listening on/, 30_000);
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
