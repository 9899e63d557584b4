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
});
