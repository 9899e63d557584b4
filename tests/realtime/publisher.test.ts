import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppStack, type AppSocket, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';
import { until } from '../support/until';
import type { JobTokensEvent, JobUpdateEvent } from '../../server/realtime/events';
import { createPublisher } from '../../server/realtime/publisher';

const db = useTestDatabase({ seed: true });
let stack: AppStack;
let publisher: Awaited<ReturnType<typeof createPublisher>>;
let projectId: string;
let teamId: string;

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url });
  publisher = await createPublisher({ databaseUrl: db.url });
  ({ id: projectId, teamId } = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } }));
});

afterAll(async () => {
  await publisher?.close();
  await stack?.stop();
});

function heard(socket: AppSocket) {
  const events: { name: string; payload: unknown }[] = [];
  socket.onAny((name: string, payload: unknown) => events.push({ name, payload }));
  return events;
}

describe('the worker publisher', () => {
  it('delivers what a worker emits in one turn to the sockets in its rooms, once each, and to no one else', async () => {
    const { token } = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const watcher = await stack.connect(token);
    const bystander = await stack.connect(token);
    expect(await watcher.emitWithAck('join', { kind: 'project', id: projectId })).toEqual({ ok: true });
    expect(await watcher.emitWithAck('join', { kind: 'team', id: teamId })).toEqual({ ok: true });
    const watcherHeard = heard(watcher);
    const bystanderHeard = heard(bystander);

    // More than fits one NOTIFY: the emits travel in several relayed chunks.
    const batches: JobTokensEvent[] = Array.from({ length: 200 }, (_, i) => ({ jobId: 'j1', offset: i * 60, text: 't'.repeat(60), sentAt: Date.now() }));
    const update: JobUpdateEvent = { jobId: 'j1', projectId, status: 'running' };
    publisher.emit([`project:${projectId}`, `team:${teamId}`], 'job:update', update);
    for (const batch of batches) publisher.emit(`project:${projectId}`, 'job:tokens', batch);

    await until(() => watcherHeard.filter((e) => e.name === 'job:tokens').length === batches.length, 'every batch');
    // Each relayed chunk is delivered to every local socket at once, so the bystander (on the same
    // server) would have heard a stray emit by now.
    const received = watcherHeard.filter((e) => e.name === 'job:tokens').map((e) => e.payload as JobTokensEvent);
    expect(received.sort((a, b) => a.offset - b.offset)).toEqual(batches);
    expect(watcherHeard.filter((e) => e.name === 'job:update').map((e) => e.payload)).toEqual([update]);
    expect(bystanderHeard).toEqual([]);
  });

  it('outlives its LISTEN connection being cut (a PostgreSQL restart) and delivers again once it listens anew', async () => {
    const { token } = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const watcher = await stack.connect(token);
    expect(await watcher.emitWithAck('join', { kind: 'project', id: projectId })).toEqual({ ok: true });
    const watcherHeard = heard(watcher);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const listeners = async () =>
        (await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`)).rows;
      const before = await listeners();
      expect(before.length).toBeGreaterThan(0);
      // What a restart does to every connection; an uncaught client error would end this test process.
      for (const { pid } of before) await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await until(async () => (await listeners()).filter((l) => !before.some((b) => b.pid === l.pid)).length >= before.length, 'LISTEN again');
      const update: JobUpdateEvent = { jobId: 'j2', projectId, status: 'running' };
      publisher.emit(`project:${projectId}`, 'job:update', update);
      await until(() => watcherHeard.some((e) => e.name === 'job:update'), 'the update after the cut');
    } finally {
      await admin.end();
    }
  });
});
