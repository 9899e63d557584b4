import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUrlAllowlist, DEFAULT_WEBHOOK_URL_ALLOWLIST, WEBHOOK_URLS } from '../../server/net/allowlist';
import type { NotificationEvent } from '../../server/realtime/events';
import { createProjectService } from '../../server/services/projects';
import { createWebhookService } from '../../server/services/webhooks';
import type { WebhookPayload } from '../../server/webhooks/events';
import { webhookDeliveryWorkflowId } from '../../workflows/definitions';
import { testKeyring } from '../support/app-stack';
import { recordHistory } from '../support/histories';
import { useJobStack } from '../support/job-stack';
import { expectTrpcError, fieldsOf } from '../support/trpc';
import { until } from '../support/until';

/**
 * A job's end tells its author (a notification, pushed to their sockets) and its project's
 * webhooks: each event once, signed, retried with backoff by a durable workflow, to URLs the
 * allow-list admits; owners alone manage them, and nobody outside the team sees them.
 */

const { stack, temporal } = useJobStack({
  simulators: [{ tokensPerSecond: 2_000, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 20 }],
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback that answers `failures` requests with a 500 first. */
async function startReceiver(failures = 0) {
  const received: Received[] = [];
  let failed = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      if (failed < failures) {
        failed++;
        res.writeHead(500).end('not now');
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    received,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/switchyard`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
const receivers: Awaited<ReturnType<typeof startReceiver>>[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});
const receiver = async (failures = 0) => {
  const started = await startReceiver(failures);
  receivers.push(started);
  return started;
};

const SECRET = 'whsec-test-0123456789abcdef';
let demo: Awaited<ReturnType<typeof stack.signIn>>;
let projectId: string;

beforeAll(async () => {
  demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
  projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
});

async function runJob(clientKey: string) {
  // Short and plain: no review, so the job ends quickly.
  const job = await demo.caller.jobs.submit({ projectId, requirements: `A function that adds two numbers (${clientKey})`, clientKey, priority: 'normal' });
  await until(async () => (await demo.caller.jobs.get({ jobId: job.id })).status === 'completed', 'the job to complete');
  return job.id;
}

/** Checks a request's signature as a receiver would: HMAC-SHA256 over `<timestamp>.<body>`. */
function verify({ headers, body }: Received, secret: string) {
  const timestamp = Number(headers['x-switchyard-timestamp']);
  expect(Math.abs(Date.now() / 1000 - timestamp)).toBeLessThan(300);
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
  expect(headers['x-switchyard-signature']).toBe(expected);
}

describe('webhooks and notifications', () => {
  it('delivers a completed job’s event once, signed, and tells its author live', async () => {
    const hook = await receiver();
    const created = await demo.caller.webhooks.create({ projectId, url: hook.url, secret: SECRET, events: ['job.completed', 'job.failed'] });
    expect(created).not.toHaveProperty('secretSealed');
    const socket = await stack.connect(demo.token);
    const told: NotificationEvent[] = [];
    socket.on('notification', (event) => told.push(event));
    const before = (await demo.caller.notifications.list({})).unread;

    const jobId = await runJob('hook-once');
    await until(() => hook.received.length >= 1, 'the receiver to get the event');
    const delivery = await until(
      async () => (await stack.prisma.webhookDelivery.findFirst({ where: { webhookId: created.id, jobId, status: 'delivered' } })) ?? false,
      'the delivery to be recorded',
    );
    // The workflow and its delivery are over: nothing else is on its way.
    await until(async () => (await temporal.client.workflow.getHandle(webhookDeliveryWorkflowId(delivery.id)).describe()).status.name === 'COMPLETED', 'the delivery workflow to end');
    expect(hook.received).toHaveLength(1);

    const [request] = hook.received;
    verify(request!, SECRET);
    expect(request!.headers).toMatchObject({ 'content-type': 'application/json', 'x-switchyard-event': 'job.completed', 'x-switchyard-delivery': delivery.id });
    const payload = JSON.parse(request!.body) as WebhookPayload;
    expect(payload).toMatchObject({ event: 'job.completed', project: { id: projectId, name: 'Demo Project' }, job: { id: jobId, status: 'completed', model: 'qwen2.5-coder:7b', author: 'Demo User' } });
    expect(payload.job.completionTokens).toBeGreaterThan(0);

    const { webhooks } = await demo.caller.webhooks.list({ projectId });
    const shown = webhooks.find((w) => w.id === created.id)!;
    expect(shown.deliveries[0]).toMatchObject({ id: delivery.id, event: 'job.completed', status: 'delivered', attempts: [{ attempt: 1, statusCode: 204, error: null }] });

    // The author's notification: pushed to their socket, listed, unread until marked.
    await until(() => told.some((event) => event.jobId === jobId), 'the notification to be pushed');
    expect(told.find((event) => event.jobId === jobId)).toMatchObject({ event: 'job.completed', projectId, title: expect.stringMatching(/^Completed: A function that adds/) });
    const listed = await demo.caller.notifications.list({});
    expect(listed.unread).toBe(before + 1);
    const mine = listed.items.find((item) => item.jobId === jobId)!;
    expect(mine).toMatchObject({ event: 'job.completed', projectId, readAt: null });
    expect(await demo.caller.notifications.markRead({ ids: [mine.id] })).toEqual({ marked: 1 });
    expect((await demo.caller.notifications.list({})).unread).toBe(before);
    await demo.caller.webhooks.delete({ webhookId: created.id });
  }, 120_000);

  it('gets an event to a receiver that fails twice on the third try, each attempt recorded', async () => {
    const hook = await receiver(2);
    const created = await demo.caller.webhooks.create({ projectId, url: hook.url, secret: SECRET, events: ['job.completed'] });
    const jobId = await runJob('hook-third-try');
    const delivery = await until(
      async () => (await stack.prisma.webhookDelivery.findFirst({ where: { webhookId: created.id, jobId, status: 'delivered' } })) ?? false,
      'the third attempt to be delivered',
    );
    expect(hook.received).toHaveLength(3);
    // The same delivery every time, signed afresh.
    for (const request of hook.received) {
      verify(request, SECRET);
      expect(request.headers['x-switchyard-delivery']).toBe(delivery.id);
      expect(request.body).toBe(hook.received[0]!.body);
    }
    const attempts = await stack.prisma.webhookAttempt.findMany({ where: { deliveryId: delivery.id }, orderBy: { attempt: 'asc' } });
    expect(attempts.map(({ attempt, statusCode, error }) => ({ attempt, statusCode, error }))).toEqual([
      { attempt: 1, statusCode: 500, error: 'answered 500' },
      { attempt: 2, statusCode: 500, error: 'answered 500' },
      { attempt: 3, statusCode: 204, error: null },
    ]);
    // Backed off as the retry policy says, 1 s and then 2 s: a busy machine only adds to the gaps.
    const gap = (i: number) => attempts[i + 1]!.at.getTime() - attempts[i]!.at.getTime();
    expect(gap(0)).toBeGreaterThanOrEqual(1_000);
    expect(gap(1)).toBeGreaterThanOrEqual(2_000);
    await recordHistory(temporal.client, 'webhook-retried', webhookDeliveryWorkflowId(delivery.id));
    await demo.caller.webhooks.delete({ webhookId: created.id });
  }, 120_000);

  it('refuses URLs at loopback or metadata addresses unless the allow-list names them', async () => {
    // Production's default list: the public internet only.
    const strict = createWebhookService({
      prisma: stack.prisma,
      keyring: testKeyring,
      allowlist: createUrlAllowlist(DEFAULT_WEBHOOK_URL_ALLOWLIST, { purpose: WEBHOOK_URLS }),
      projects: createProjectService(stack.prisma),
    });
    await expect(strict.create(demo.user, { projectId, url: 'http://127.0.0.1:8080/hook', secret: SECRET, events: ['job.completed'] })).rejects.toThrow(
      /not among the hosts webhooks may use \(WEBHOOK_URL_ALLOWLIST: public\)/,
    );
    // The test stack lists 127.0.0.1 (its receivers), and nothing else of loopback or link-local.
    const count = await stack.prisma.webhook.count();
    for (const url of ['http://169.254.169.254/latest/meta-data', 'http://127.0.0.2:8080/hook', 'http://[::1]:8080/hook', 'http://10.1.2.3/hook']) {
      const refused = await expectTrpcError(demo.caller.webhooks.create({ projectId, url, secret: SECRET, events: ['job.completed'] }), 'BAD_REQUEST');
      expect(fieldsOf(refused).url, url).toMatch(url.includes('169.254') ? /link-local or metadata/ : /not among the hosts webhooks may use/);
    }
    const hook = await demo.caller.webhooks.create({ projectId, url: 'http://127.0.0.1:9/hook', secret: SECRET, events: ['job.failed'] });
    await expectTrpcError(demo.caller.webhooks.update({ webhookId: hook.id, url: 'http://169.254.169.254/' }), 'BAD_REQUEST', /link-local or metadata/);
    expect((await stack.prisma.webhook.findUniqueOrThrow({ where: { id: hook.id } })).url).toBe('http://127.0.0.1:9/hook');
    await demo.caller.webhooks.delete({ webhookId: hook.id });
    expect(await stack.prisma.webhook.count()).toBe(count);
  });

  it('refuses bad input with the field, changing nothing', async () => {
    const count = await stack.prisma.webhook.count();
    const base = { projectId, url: 'http://127.0.0.1:9/hook', secret: SECRET, events: ['job.completed' as const] };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ secret: 'short' }, 'secret', /at least 16/],
      [{ secret: `${SECRET}\u0000` }, 'secret', /control characters/],
      [{ secret: `${SECRET}\uD800` }, 'secret', /broken character/],
      [{ events: [] }, 'events', /at least one event/],
      [{ events: ['job.exploded'] }, 'events', /Events are job\.completed, job\.failed, job\.cancelled/],
      [{ url: 'not a url' }, 'url', /full URL/],
      [{ url: 'ftp://127.0.0.1/hook' }, 'url', /http or https/],
      [{ url: 'http://user:pw@127.0.0.1/hook' }, 'url', /user name or password/],
    ];
    for (const [change, field, message] of cases) {
      const refused = await expectTrpcError(demo.caller.webhooks.create({ ...base, ...change } as typeof base), 'BAD_REQUEST');
      expect(fieldsOf(refused)[field], JSON.stringify(change)).toMatch(message);
    }
    await expectTrpcError(demo.caller.webhooks.update({ webhookId: 'not-a-uuid' } as never), 'BAD_REQUEST');
    await expectTrpcError(demo.caller.notifications.markRead({ ids: [] }), 'BAD_REQUEST');
    expect(await stack.prisma.webhook.count()).toBe(count);
  });

  it('shows and lets change webhooks to the project team’s owners only, and audits every change', async () => {
    const hook = await demo.caller.webhooks.create({ projectId, url: 'http://127.0.0.1:9/hook', secret: SECRET, events: ['job.completed'] });
    const suffix = randomUUID().slice(0, 8);
    const { token: outsiderToken } = await stack.services.auth.signUp({ name: 'Outsider', email: `outsider-${suffix}@example.com`, password: 'outsider-password' }, { ip: '127.0.0.1' });
    const outsider = stack.caller((await stack.services.sessions.getUser(outsiderToken))!);
    const team = await outsider.teams.create({ name: `Elsewhere ${suffix}` });
    await outsider.teams.createProject({ teamId: team.id, name: 'Theirs' });
    const { token: memberToken } = await stack.services.auth.signUp({ name: 'Member', email: `member-${suffix}@example.com`, password: 'member-password' }, { ip: '127.0.0.1' });
    const memberUser = (await stack.services.sessions.getUser(memberToken))!;
    const demoTeam = await stack.prisma.project.findUniqueOrThrow({ where: { id: projectId }, select: { teamId: true } });
    await stack.prisma.membership.create({ data: { userId: memberUser.id, teamId: demoTeam.teamId, role: 'member' } });
    const member = stack.caller(memberUser);

    await expectTrpcError(outsider.webhooks.list({ projectId }), 'NOT_FOUND');
    expect(await member.webhooks.list({ projectId })).toEqual({ canManage: false, webhooks: [] });
    for (const caller of [outsider, member]) {
      await expectTrpcError(caller.webhooks.create({ projectId, url: 'http://127.0.0.1:9/x', secret: SECRET, events: ['job.completed'] }), 'NOT_FOUND');
      await expectTrpcError(caller.webhooks.update({ webhookId: hook.id, enabled: false }), 'NOT_FOUND');
      await expectTrpcError(caller.webhooks.delete({ webhookId: hook.id }), 'NOT_FOUND');
    }
    expect(await stack.prisma.webhook.findUniqueOrThrow({ where: { id: hook.id } })).toMatchObject({ enabled: true });
    // Nobody else's notifications either.
    const mine = await demo.caller.notifications.list({});
    if (mine.items[0]) expect(await outsider.notifications.markRead({ ids: [mine.items[0].id] })).toEqual({ marked: 0 });

    await demo.caller.webhooks.update({ webhookId: hook.id, events: ['job.failed', 'job.cancelled'], secret: 'a-new-secret-of-enough-length' });
    await demo.caller.webhooks.delete({ webhookId: hook.id });
    const audit = await stack.prisma.auditLog.findMany({ where: { targetType: 'webhook', targetId: hook.id }, orderBy: { id: 'asc' } });
    expect(audit.map((entry) => entry.action)).toEqual(['webhook.create', 'webhook.update', 'webhook.delete']);
    expect(audit[1]!.data).toMatchObject({ before: { events: ['job.completed'] }, after: { events: ['job.failed', 'job.cancelled'] }, secretChanged: true });
    for (const entry of audit) {
      expect(entry.actorId).toBe(demo.user.id);
      expect(entry.teamId).toBe(demoTeam.teamId);
      expect(JSON.stringify(entry.data)).not.toMatch(/secret-of|whsec/);
    }
  });
});
