import { beforeAll, describe, expect, it } from 'vitest';
import { useJobStack, type TestSocket } from '../support/job-stack';
import { hashPassword } from '../../server/auth/password';
import type { JobUpdateEvent } from '../../server/realtime/events';
import { expectTrpcError } from '../support/trpc';
import { testDataConverter } from '../support/temporal';
import { until } from '../support/until';
import { recordHistory } from '../support/histories';
import { jobWorkflowId } from '../../workflows/definitions';

const { temporal, stack, sim } = useJobStack({
  simulators: [{ tokensPerSecond: 400, timeToFirstTokenMs: 20, modelLoadMs: 0, outputTokens: 80 }],
});
let projectId: string;

beforeAll(async () => {
  projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
  // A second team, to prove that nothing of the demo team is visible from it.
  const tier = await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'free' } });
  await stack.prisma.team.create({
    data: {
      name: 'Other Team',
      slug: 'other',
      tierId: tier.id,
      memberships: {
        create: {
          role: 'owner',
          user: {
            create: { email: 'other@example.com', name: 'Other', passwordHash: await hashPassword('other-password') },
          },
        },
      },
    },
  });
});

function nextUpdate(socket: TestSocket, status: JobUpdateEvent['status']): Promise<JobUpdateEvent> {
  return new Promise((resolve) => {
    const onUpdate = (event: JobUpdateEvent) => {
      if (event.status !== status) return;
      socket.off('job:update', onUpdate);
      resolve(event);
    };
    socket.on('job:update', onUpdate);
  });
}

describe('the job path', () => {
  it('submits, streams tokens to the job room and saves exactly one result', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const socket = await stack.connect(demo.token);
    expect(await socket.emitWithAck('join', { kind: 'project', id: projectId })).toEqual({ ok: true });

    const job = await demo.caller.jobs.submit({
      projectId,
      requirements: 'A TypeScript function that sums an array',
      clientKey: 'happy-path-1',
      priority: 'normal',
    });
    expect(await socket.emitWithAck('join', { kind: 'job', id: job.id })).toEqual({ ok: true });
    const pieces: { offset: number; text: string; sentAt?: number }[] = [];
    const submittedAt = Date.now();
    socket.on('job:tokens', (e) => pieces.push(e));

    await nextUpdate(socket, 'completed');
    const saved = await demo.caller.jobs.get({ jobId: job.id });
    expect(saved.status).toBe('completed');
    expect(saved.completionTokens).toBe(80);
    expect((await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).backendId).toBe(stack.backendIds[0]);
    // Its user sees the backend's name, never its internal address (server/services/backend-names.ts).
    expect(saved.backendId).toMatch(/^local #\d$/);
    expect(saved.result?.language).toBe('ts');
    expect(saved.output).toContain(saved.result!.code);
    // The streamed pieces are contiguous and add up to the saved text.
    expect(pieces.length).toBeGreaterThan(1);
    // Each batch says when the worker published it, so clients can measure delivery delay.
    expect(pieces.every((piece) => piece.sentAt! >= submittedAt && piece.sentAt! <= Date.now())).toBe(true);
    let text = '';
    for (const piece of pieces) {
      expect(piece.offset).toBe(text.length);
      text += piece.text;
    }
    expect(text).toBe(saved.output);
    expect(await stack.prisma.result.count({ where: { jobId: job.id } })).toBe(1);
    await recordHistory(temporal.client, 'job-happy-path', jobWorkflowId(job.id));
  });

  it('returns the same job for a repeated submit with the same client key', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const input = { projectId, requirements: 'A queue in Go', clientKey: 'idempotent-1', priority: 'low' as const };
    const [a, b] = await Promise.all([demo.caller.jobs.submit(input), demo.caller.jobs.submit(input)]);
    const again = await demo.caller.jobs.submit(input);
    expect(new Set([a.id, b.id, again.id]).size).toBe(1);
    expect(await stack.prisma.job.count({ where: { clientKey: 'idempotent-1' } })).toBe(1);
    await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id: again.id } })).status === 'completed', 'the retried job to complete');
  });

  it('cancels a running job: the model request is aborted and the partial output kept', async () => {
    // 80 tokens at 2 a second: the stream would run 40 s, far longer than a cancellation takes on a busy machine.
    sim.configure({ tokensPerSecond: 2 });
    try {
      const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
      const socket = await stack.connect(demo.token);
      const job = await demo.caller.jobs.submit({
        projectId,
        requirements: 'A long TypeScript module',
        clientKey: 'cancel-key-1',
        priority: 'normal',
      });
      await socket.emitWithAck('join', { kind: 'job', id: job.id });
      await new Promise<void>((resolve) => socket.once('job:tokens', () => resolve()));
      const closedBefore = sim.stats().closedEarly;
      const cancelledAt = Date.now();
      await demo.caller.jobs.cancel({ jobId: job.id });
      await nextUpdate(socket, 'cancelled');

      const saved = await demo.caller.jobs.get({ jobId: job.id });
      expect(saved.status).toBe('cancelled');
      expect(saved.output.length).toBeGreaterThan(0);
      expect(saved.result).toBeNull();
      const stats = sim.stats();
      expect(stats.closedEarly).toBe(closedBefore + 1);
      // The request was aborted, not run to its end (a heartbeat carries the cancellation: about
      // half a second on an idle machine; the bound here only proves it was not the stream's end).
      expect(stats.disconnects.at(-1)!.at - cancelledAt).toBeLessThan(20_000);
      expect(stats.active).toBe(0);
    } finally {
      sim.configure({ tokensPerSecond: 400 });
    }
  });
});

describe('bad input changes nothing', () => {
  it('refuses empty requirements, a model outside the tier and an unknown project', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const before = await stack.prisma.job.count();
    const empty = await expectTrpcError(
      demo.caller.jobs.submit({ projectId, requirements: '   ', clientKey: 'bad-key-1', priority: 'normal' }),
      'BAD_REQUEST',
    );
    expect(empty.message).toContain('Describe what to build');
    const model = await expectTrpcError(
      demo.caller.jobs.submit({ projectId, requirements: 'x', model: 'gpt-9', clientKey: 'bad-key-2', priority: 'normal' }),
      'BAD_REQUEST',
    );
    expect(model.message).toBe('There is no model gpt-9 in the catalogue; the premium tier can use llama3.1:8b, qwen2.5-coder:7b.');
    await expectTrpcError(
      demo.caller.jobs.submit({ projectId: crypto.randomUUID(), requirements: 'x', clientKey: 'bad-key-3', priority: 'normal' }),
      'NOT_FOUND',
    );
    expect(await stack.prisma.job.count()).toBe(before);
  });

  it('refuses a job beyond the per-user queue cap with the limit in the message', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const team = await stack.prisma.team.findUniqueOrThrow({ where: { slug: 'demo' }, include: { tier: true } });
    const cap = team.tier.maxQueuedPerUser;
    // Rows that count as unfinished without running anything.
    await stack.prisma.job.createMany({
      data: Array.from({ length: cap }, (_, i) => ({
        teamId: team.id,
        projectId,
        userId: demo.user.id,
        clientKey: `cap-filler-${i}`,
        requirements: 'filler',
        model: 'qwen2.5-coder:7b',
        workflowId: `cap-filler-${i}`,
      })),
    });
    try {
      const before = await stack.prisma.job.count();
      const error = await expectTrpcError(
        demo.caller.jobs.submit({ projectId, requirements: 'one more', clientKey: 'cap-over', priority: 'normal' }),
        'TOO_MANY_REQUESTS',
      );
      expect(error.message).toContain(`You already have ${cap} queued jobs, the limit of the premium tier`);
      expect(await stack.prisma.job.count()).toBe(before);
    } finally {
      await stack.prisma.job.deleteMany({ where: { clientKey: { startsWith: 'cap-filler-' } } });
    }
  });

  it('answers SERVICE_UNAVAILABLE and keeps no row when Temporal is unreachable', async () => {
    const { createServices } = await import('../../server/services');
    const { testBackendUrls, testKeyring, testWebhookUrls } = await import('../support/app-stack');
    const { createTemporalProvider } = await import('../../server/temporal/client');
    const { createCaller } = await import('../../server/trpc/root');
    const services = createServices({
      prisma: stack.prisma,
      temporal: createTemporalProvider({ address: '127.0.0.1:1', namespace: 'default', taskQueue: 'nowhere', dataConverter: testDataConverter }),
      sessionSecret: 'test-session-secret-of-at-least-32-chars',
      defaultModel: 'qwen2.5-coder:7b',
      temporalUiUrl: 'http://localhost:8233',
      maxTeamsPerUser: 0,
      keyring: testKeyring,
      backendUrls: testBackendUrls,
    webhookUrls: testWebhookUrls,
    });
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const caller = createCaller({ services, user: demo.user });
    const before = await stack.prisma.job.count();
    const error = await expectTrpcError(
      caller.jobs.submit({ projectId, requirements: 'x', clientKey: 'down-key-1', priority: 'normal' }),
      'SERVICE_UNAVAILABLE',
    );
    expect(error.message).toContain('unreachable');
    expect(await stack.prisma.job.count()).toBe(before);
  });
});

describe('tenancy', () => {
  it('hides a team’s projects, jobs and rooms from other teams and anonymous sockets', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const job = await stack.prisma.job.findFirstOrThrow({ where: { projectId } });
    const other = await stack.signIn('other@example.com', 'other-password');

    expect(await other.caller.projects.list()).toEqual([]);
    await expectTrpcError(other.caller.projects.get({ projectId }), 'NOT_FOUND');
    await expectTrpcError(other.caller.jobs.get({ jobId: job.id }), 'NOT_FOUND');
    await expectTrpcError(other.caller.jobs.list({ projectId, limit: 10 }), 'NOT_FOUND');
    await expectTrpcError(other.caller.jobs.cancel({ jobId: job.id }), 'NOT_FOUND');

    const socket = await stack.connect(other.token);
    for (const room of [
      { kind: 'project', id: projectId },
      { kind: 'job', id: job.id },
      { kind: 'team', id: job.teamId },
      { kind: 'project', id: 'not-a-uuid' },
    ] as const) {
      expect(await socket.emitWithAck('join', room)).toEqual({ ok: false, error: 'not found' });
    }
    expect(await (await stack.connect(demo.token)).emitWithAck('join', { kind: 'team', id: job.teamId })).toEqual({ ok: true });
    await expect(stack.connect('forged-token')).rejects.toThrow('unauthorized');
  });
});
