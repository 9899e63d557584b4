import { io as connectClient } from 'socket.io-client';
import { SESSION_COOKIE } from '../../server/auth/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/lib/ports';
import { startEntry, type EntryProcess } from '../support/web-process';
import { until } from '../support/until';

/**
 * The real web process (server/main.ts) logging under LOG_LEVEL=warn, with its dependencies down
 * (nothing here needs them): request ids echoed and carried, lines below the level dropped.
 */

interface Line {
  level: string;
  msg: string;
  name: string;
  requestId?: string;
  socketId?: string;
  path?: string;
  status?: number;
}

let web: EntryProcess;
let base: string;
const lines = () =>
  web
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Line);

beforeAll(async () => {
  const port = await freePort();
  web = startEntry('server/main.ts', {
    NODE_ENV: 'development',
    PORT: String(port),
    DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none',
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    LOG_LEVEL: 'warn',
  });
  await web.waitFor(/web listening on/, 60_000);
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => web?.stop());

describe('the web process logs', () => {
  it('as JSON with level names, the ready line even above info', () => {
    expect(lines().find((line) => line.msg.startsWith('web listening on'))).toMatchObject({ level: 'info', name: 'web' });
  });

  it("echoes the caller's request id and logs the request under it; a new id for none or a bad one", async () => {
    const echoed = await fetch(`${base}/trpc/no.such.procedure`, { headers: { 'x-request-id': 'edge-7f3a.42' } });
    expect(echoed.status).toBe(404);
    expect(echoed.headers.get('x-request-id')).toBe('edge-7f3a.42');
    await until(() => lines().some((line) => line.requestId === 'edge-7f3a.42'), 'the request line');
    expect(lines().find((line) => line.requestId === 'edge-7f3a.42')).toMatchObject({ level: 'warn', msg: 'request', path: '/trpc/no.such.procedure', status: 404 });

    const fresh = (await fetch(`${base}/trpc/no.such.procedure`)).headers.get('x-request-id');
    const replaced = (await fetch(`${base}/trpc/no.such.procedure`, { headers: { 'x-request-id': 'x'.repeat(300) } })).headers.get('x-request-id');
    for (const id of [fresh, replaced]) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(fresh).not.toBe(replaced);
  });

  it('drops lines below LOG_LEVEL: a successful request is info, so not written', async () => {
    const ok = await fetch(`${base}/metrics`, { headers: { 'x-request-id': 'below-the-level' } });
    expect(ok.status).toBe(200);
    await ok.text();
    // A later line at warn proves the process got this far and wrote what it meant to.
    await fetch(`${base}/trpc/no.such.procedure`, { headers: { 'x-request-id': 'after-it' } });
    await until(() => lines().some((line) => line.requestId === 'after-it'), 'the later line');
    expect(lines().some((line) => line.requestId === 'below-the-level')).toBe(false);
    expect(lines().every((line) => ['warn', 'error', 'fatal'].includes(line.level) || line.msg.startsWith('web listening on'))).toBe(true);
  });

  it('gives each socket connection a request id (its handshake header) on its lines', async () => {
    const socket = connectClient(base, { transports: ['websocket'], extraHeaders: { 'x-request-id': 'socket-handshake-1', origin: base, cookie: `${SESSION_COOKIE}=some-session-token` }, reconnection: false });
    // The database is down: reading the session fails the handshake, which says so under the connection's id.
    await new Promise((resolve) => socket.once('connect_error', resolve));
    socket.close();
    await until(() => lines().some((line) => line.requestId === 'socket-handshake-1'), 'the socket line');
    expect(lines().find((line) => line.requestId === 'socket-handshake-1')).toMatchObject({ level: 'warn', msg: 'socket handshake failed', socketId: expect.any(String) });
  });
});
