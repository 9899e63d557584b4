import { TRPCError } from '@trpc/server';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordHistory } from '../support/histories';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';
import { jobWorkflowId } from '../../workflows/definitions';
import type { ApprovalState } from '../../workflows/collaboration/api';
import { stepJobId } from '../../server/services/step-ids';
import { statusQuery } from '../../workflows/scheduler/api';
import { defaultTemplate, type TemplateInput } from '../../server/services/collaboration-template';
import { noFaults } from '../../simulator';
import type { WebhookPayload } from '../../server/webhooks/events';

/**
 * Collaboration jobs on the real Temporal dev server: three simulated Ollama backends, two serving
 * qwen2.5-coder:7b and one serving only llama3.1:8b, so one agent can be made to fail alone.
 */
const fast = { tokensPerSecond: 400, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 60 };
const {
  stack,
  temporal,
  sims: [coderA, coderB, llama],
} = useJobStack({
  simulators: [
    { ...fast, models: [{ name: 'qwen2.5-coder:7b', contextWindow: 32768 }] },
    { ...fast, models: [{ name: 'qwen2.5-coder:7b', contextWindow: 32768 }] },
    { ...fast, models: [{ name: 'llama3.1:8b', contextWindow: 131072 }] },
  ],
  // Several tests fail the llama backend on purpose; its breaker cools down in a second, not the
  // default 30 s doubling each time, so a later test is not left waiting for it.
  schedulerConfig: { breaker: { failureThreshold: 3, windowMs: 60_000, cooldownMs: 1_000, maxCooldownMs: 2_000 } },
});
// Runs of five jobs each, several with retries and backoffs, on a busy machine.
vi.setConfig({ testTimeout: 180_000 });
let projectId: string;
let teamId: string;

beforeAll(async () => {
  const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
  projectId = project.id;
  teamId = project.teamId;
});

const TASK = 'A todo list web app with a REST API and a small React frontend';
const FINAL = ['completed', 'failed', 'cancelled', 'dead_letter'];

const demo = () => stack.signIn('demo@switchyard.dev', 'demo-password');

/** Submits as the demo team's owner, or as `author` (a member), from a template the owner saves. */
async function submit(template?: Partial<TemplateInput>, task = TASK, author?: Awaited<ReturnType<typeof demo>>) {
  const owner = await demo();
  let templateId: string | undefined;
  if (template) {
    const saved = await owner.caller.collaborations.saveTemplate({
      teamId,
      template: { ...defaultTemplate('qwen2.5-coder:7b'), name: `t-${crypto.randomUUID()}`, ...template },
    });
    templateId = saved.id;
  }
  const job = await (author ?? owner).caller.jobs.submitCollaboration({ projectId, task, templateId, clientKey: crypto.randomUUID() });
  return { job, owner };
}

/** Notifications about a collaboration or any of its steps, as [who, event]. */
async function notified(jobId: string) {
  const rows = await stack.prisma.notification.findMany({
    where: { OR: [{ jobId }, { job: { parentId: jobId } }] },
    select: { jobId: true, event: true, user: { select: { name: true } } },
    orderBy: [{ createdAt: 'asc' }, { event: 'asc' }],
  });
  expect(rows.every((r) => r.jobId === jobId)).toBe(true);
  return rows.map((r) => [r.user.name, r.event]).sort();
}

const row = (id: string) => stack.prisma.job.findUniqueOrThrow({ where: { id }, include: { children: { orderBy: { part: 'asc' } } } });

async function finished(jobId: string, timeoutMs = 90_000) {
  return until(async () => {
    const job = await row(jobId);
    return FINAL.includes(job.status) && job.children.every((c) => FINAL.includes(c.status)) && job;
  }, `collaboration ${jobId} and its steps to end`, timeoutMs);
}

async function approvalOf(jobId: string): Promise<ApprovalState | null> {
  return (await stack.prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { approval: true } })).approval as ApprovalState | null;
}

const untilWaiting = (jobId: string) => until(async () => (await approvalOf(jobId))?.state === 'waiting', `${jobId} to wait for approval`);

/** Every slot is free again: the scheduler holds no lease and nothing waits. */
const untilNoLeases = () =>
  until(async () => {
    const status = await stack.scheduler().query(statusQuery);
    return status.leases.length === 0 && status.waiting === 0;
  }, 'every lease to be given back');

const code = (error: unknown) => (error instanceof TRPCError ? error.code : String(error));

describe('a collaboration job', () => {
  it('runs the agents in parallel, then the integration and the review, each a job of its own', async () => {
    const { job, owner } = await submit();
    const done = await finished(job.id);
    expect(done.status).toBe('completed');
    expect(done.children.map((c) => [c.part, c.role, c.status])).toEqual([
      ['agent-0', 'architect', 'completed'],
      ['agent-1', 'ui designer', 'completed'],
      ['agent-2', 'backend developer', 'completed'],
      ['integration', 'integrator', 'completed'],
      ['review', 'senior reviewer', 'completed'],
    ]);
    for (const step of done.children) {
      expect(step.output.length).toBeGreaterThan(0);
      expect(step.id).toBe(stepJobId(job.id, step.part!));
      expect(step.workflowId).toBe(jobWorkflowId(step.id));
    }
    // The parent holds the integration, and its steps' tokens and cost summed.
    expect(done.output).toBe(done.children.find((c) => c.part === 'integration')!.output);
    expect(done.completionTokens).toBe(done.children.reduce((sum, c) => sum + c.completionTokens, 0));
    expect(done.promptTokens).toBe(done.children.reduce((sum, c) => sum + c.promptTokens, 0));
    expect(done.costUsd).toBeCloseTo(done.children.reduce((sum, c) => sum + c.costUsd, 0));

    // The project's history lists the collaboration, not its steps; its tree has each step.
    const listed = await owner.caller.jobs.list({ projectId, limit: 100 });
    expect(listed.items.some((j) => j.id === job.id && j.kind === 'multi_agent')).toBe(true);
    expect(listed.items.some((j) => done.children.some((c) => c.id === j.id))).toBe(false);
    const tree = await owner.caller.collaborations.get({ jobId: job.id });
    expect(tree.steps.map((s) => s.part)).toEqual(['agent-0', 'agent-1', 'agent-2', 'integration', 'review']);
    expect(tree.temporalUrl).toContain(encodeURIComponent(jobWorkflowId(job.id)));
    expect(tree.steps[0]!.temporalUrl).toContain(jobWorkflowId(stepJobId(job.id, 'agent-0')));

    // A repeated submit is the same job: no second workflow, no twins.
    const again = await owner.caller.jobs.submitCollaboration({ projectId, task: TASK, clientKey: done.clientKey });
    expect(again.id).toBe(job.id);
    await untilNoLeases();
    await recordHistory(temporal.client, 'collaboration-full-run', jobWorkflowId(job.id));
    await recordHistory(temporal.client, 'collaboration-step', jobWorkflowId(stepJobId(job.id, 'agent-0')));
  });

  it('fails an agent over to another backend mid-stream and keeps its text whole', async () => {
    const reference = await finished((await submit(undefined, `${TASK} (failover)`)).job.id);
    // Streams are cut after 20 tokens: the first backend to cut one stays cutting (twice per
    // grant, then the step queues again), the other recovers and finishes what was cut.
    const cutsBefore = new Map([coderA, coderB].map((sim) => [sim, sim.stats().cuts]));
    for (const sim of [coderA, coderB]) sim.setFaults({ cutAfterTokens: 20 });
    try {
      const { job } = await submit(undefined, `${TASK} (failover)`);
      const cutting = await until(() => [coderA, coderB].find((sim) => sim.stats().cuts > cutsBefore.get(sim)!), 'a stream to be cut');
      (cutting === coderA ? coderB : coderA).setFaults(noFaults);
      const done = await finished(job.id);
      expect(done.status).toBe('completed');
      // Cut steps resumed elsewhere: each step's text is the one a clean run gives.
      expect(done.children.map((c) => c.output)).toEqual(reference.children.map((c) => c.output));
      expect(done.children.some((c) => c.attempts >= 2)).toBe(true);
    } finally {
      for (const sim of [coderA, coderB]) sim.setFaults(noFaults);
    }
  });

  const failingDesigner = (failurePolicy: 'proceed' | 'retry_other_model') => {
    const template = defaultTemplate('qwen2.5-coder:7b');
    return {
      agents: template.agents.map((agent) => (agent.role === 'ui designer' ? { ...agent, model: 'llama3.1:8b' } : agent)),
      failurePolicy,
      fallbackModel: failurePolicy === 'retry_other_model' ? 'qwen2.5-coder:7b' : null,
    };
  };

  it('goes on without an agent that is dead-lettered, naming it, when the template says proceed', async () => {
    llama.setFaults({ errorRate: 1 });
    try {
      const { job } = await submit(failingDesigner('proceed'));
      const done = await finished(job.id);
      expect(done.status).toBe('completed');
      const designer = done.children.find((c) => c.part === 'agent-1')!;
      expect(designer.status).toBe('dead_letter');
      expect(done.children.filter((c) => c.part !== 'agent-1').every((c) => c.status === 'completed')).toBe(true);
      const outcome = await temporal.client.workflow.getHandle(jobWorkflowId(job.id)).result();
      expect(outcome).toEqual({ jobId: job.id, status: 'completed', missing: ['ui designer'] });
      await untilNoLeases();
      await recordHistory(temporal.client, 'collaboration-agent-missing', jobWorkflowId(job.id));
    } finally {
      llama.setFaults(noFaults);
    }
  });

  it('runs a dead-lettered agent again on the fallback model when the template says so', async () => {
    llama.setFaults({ errorRate: 1 });
    try {
      const { job } = await submit(failingDesigner('retry_other_model'));
      const done = await finished(job.id);
      expect(done.status).toBe('completed');
      // The failed run stays as it ended; its fallback is a step of its own, listed after it.
      expect(done.children.map((c) => [c.part, c.status, c.model])).toEqual([
        ['agent-0', 'completed', 'qwen2.5-coder:7b'],
        ['agent-1', 'dead_letter', 'llama3.1:8b'],
        ['agent-1:fallback', 'completed', 'qwen2.5-coder:7b'],
        ['agent-2', 'completed', 'qwen2.5-coder:7b'],
        ['integration', 'completed', 'qwen2.5-coder:7b'],
        ['review', 'completed', 'qwen2.5-coder:7b'],
      ]);
      expect(done.children[2]!.id).toBe(stepJobId(job.id, 'agent-1:fallback'));
      expect(done.children[2]!.output.length).toBeGreaterThan(0);
      await untilNoLeases();
    } finally {
      llama.setFaults(noFaults);
    }
  });

  it('dead-letters the collaboration when the fallback model fails too', async () => {
    const template = failingDesigner('retry_other_model');
    // A context window too small for any prompt: the backend refuses the request (400), which no
    // retry mends, so the designer fails at once, and again on its fallback.
    llama.configure({ models: [{ name: 'llama3.1:8b', contextWindow: 8 }] });
    try {
      const { job } = await submit({ ...template, fallbackModel: 'llama3.1:8b' });
      const done = await finished(job.id);
      expect(done.status).toBe('dead_letter');
      expect(done.error).toContain('The ui designer failed, and again on llama3.1:8b');
      expect(done.children.filter((c) => c.part?.startsWith('agent-1')).map((c) => [c.part, c.status])).toEqual([
        ['agent-1', 'failed'],
        ['agent-1:fallback', 'failed'],
      ]);
      // The integration and the review never started.
      expect(done.children.filter((c) => c.part === 'integration' || c.part === 'review').map((c) => [c.status, c.startedAt])).toEqual([
        ['cancelled', null],
        ['cancelled', null],
      ]);
      await untilNoLeases();
    } finally {
      llama.configure({ models: [{ name: 'llama3.1:8b', contextWindow: 131072 }] });
    }
  });

  it('cancels every step when the collaboration is cancelled, keeping partial outputs and no lease', async () => {
    for (const sim of [coderA, coderB]) sim.configure({ tokensPerSecond: 10, outputTokens: 400 });
    try {
      const { job, owner } = await submit(undefined, `${TASK} (cancelled)`);
      await until(async () => (await row(job.id)).children.some((c) => c.output.length > 0), 'an agent to stream');
      await owner.caller.jobs.cancel({ jobId: job.id });
      const done = await finished(job.id);
      expect(done.status).toBe('cancelled');
      expect(done.children.every((c) => c.status === 'cancelled')).toBe(true);
      expect(done.children.some((c) => c.output.length > 0)).toBe(true);
      await untilNoLeases();
    } finally {
      for (const sim of [coderA, coderB]) sim.configure({ tokensPerSecond: 400, outputTokens: 60 });
    }
  });
});

/** A webhook receiver on loopback (the tests' allow-list admits it) recording what it gets. */
const received: WebhookPayload[] = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    received.push(JSON.parse(body) as WebhookPayload);
    res.writeHead(204).end();
  });
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

describe('a collaboration’s approval', () => {
  it('tells its approvers it waits, and its author and webhooks once it ends, the steps telling no one', async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const owner = await demo();
    await owner.caller.webhooks.create({
      projectId,
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      secret: 'whsec-collaboration-0123456789',
      events: ['job.awaiting_approval', 'job.completed', 'job.failed'],
    });
    // A member submits: the approvers are the author and the team's owner.
    const member = await stack.signIn('admin@switchyard.dev', 'admin-password');
    const { job } = await submit({ approval: true, approvalTimeoutSeconds: 600 }, `${TASK} (notified)`, member);
    await untilWaiting(job.id);
    expect((await approvalOf(job.id))!.approvers.map((a) => a.name).sort()).toEqual(['Admin', 'Demo User']);
    // The wait is recorded, then announced: wait for the announcement.
    await until(async () => (await notified(job.id)).length >= 2, 'the approvers to be told');
    expect(await notified(job.id)).toEqual([
      ['Admin', 'job.awaiting_approval'],
      ['Demo User', 'job.awaiting_approval'],
    ]);
    const waiting = await until(() => received.find((p) => p.job.id === job.id), 'the webhook to hear of the wait');
    expect(waiting).toMatchObject({ event: 'job.awaiting_approval', job: { status: 'running', author: 'Admin' } });
    // In the owner's bell, linking to the collaboration.
    const listed = await owner.caller.notifications.list({});
    expect(listed.items.find((n) => n.jobId === job.id)).toMatchObject({ event: 'job.awaiting_approval', projectId, title: `Waiting for your approval: ${TASK} (notified)` });

    await owner.caller.collaborations.decide({ jobId: job.id, action: 'approve' });
    expect((await finished(job.id)).status).toBe('completed');
    await until(() => received.some((p) => p.job.id === job.id && p.event === 'job.completed'), 'the webhook to hear of the end');
    // The workflow ends once its end is recorded and announced.
    await temporal.client.workflow.getHandle(jobWorkflowId(job.id)).result();
    expect(await notified(job.id)).toEqual([
      ['Admin', 'job.awaiting_approval'],
      ['Admin', 'job.completed'],
      ['Demo User', 'job.awaiting_approval'],
    ]);
    // Each event once; nothing about the steps.
    const deliveries = await stack.prisma.webhookDelivery.findMany({ where: { OR: [{ jobId: job.id }, { jobId: { in: (await row(job.id)).children.map((c) => c.id) } }] } });
    expect(deliveries.map((d) => [d.jobId, d.event]).sort()).toEqual([
      [job.id, 'job.awaiting_approval'],
      [job.id, 'job.completed'],
    ]);
    await until(async () => (await stack.prisma.webhookDelivery.count({ where: { jobId: job.id, status: 'delivered' } })) === 2, 'both deliveries to be recorded');
    expect(received.filter((p) => p.job.id === job.id).map((p) => p.event)).toEqual(['job.awaiting_approval', 'job.completed']);
  });

  it('waits holding no slot, refuses anyone but the author and owners, and goes on with an edited output', async () => {
    const { job, owner } = await submit({ approval: true, approvalTimeoutSeconds: 600 });
    await untilWaiting(job.id);
    const waiting = (await approvalOf(job.id))!;
    expect(waiting.approvers.map((a) => a.name)).toEqual(['Demo User']);
    await untilNoLeases();
    // The admin is a plain member of the demo team: neither the author nor an owner.
    const member = await stack.signIn('admin@switchyard.dev', 'admin-password');
    expect(code(await member.caller.collaborations.decide({ jobId: job.id, action: 'approve' }).catch((e: unknown) => e))).toBe('FORBIDDEN');
    // Bad input changes nothing.
    expect(code(await owner.caller.collaborations.decide({ jobId: job.id, action: 'approve', edits: [{ part: 'agent-0', text: 'a\u0000b' }] }).catch((e: unknown) => e))).toBe('BAD_REQUEST');
    expect(code(await owner.caller.collaborations.decide({ jobId: job.id, action: 'approve', edits: [{ part: 'agent-5', text: 'x' }] }).catch((e: unknown) => e))).toBe('BAD_REQUEST');
    expect((await approvalOf(job.id))!.state).toBe('waiting');

    const edited = 'The architecture, as the author rewrote it.';
    await owner.caller.collaborations.decide({ jobId: job.id, action: 'approve', edits: [{ part: 'agent-0', text: edited }] });
    const done = await finished(job.id);
    expect(done.status).toBe('completed');
    expect(done.children.find((c) => c.part === 'agent-0')!.output).toBe(edited);
    expect(await approvalOf(job.id)).toMatchObject({ state: 'approved', decidedBy: { name: 'Demo User' }, editedParts: ['agent-0'] });
    // Deciding again: nothing waits any more.
    expect(code(await owner.caller.collaborations.decide({ jobId: job.id, action: 'reject' }).catch((e: unknown) => e))).toBe('BAD_REQUEST');
    expect(await stack.prisma.auditLog.count({ where: { action: 'job.approve', targetId: job.id } })).toBe(1);
    await recordHistory(temporal.client, 'collaboration-approved-with-edit', jobWorkflowId(job.id));
  });

  it('ends cancelled when rejected, the integration and the review never run', async () => {
    const { job, owner } = await submit({ approval: true, approvalTimeoutSeconds: 600 });
    await untilWaiting(job.id);
    await owner.caller.collaborations.decide({ jobId: job.id, action: 'reject' });
    const done = await finished(job.id);
    expect(done.status).toBe('cancelled');
    expect(done.error).toBe('Rejected at the approval step.');
    expect(done.children.filter((c) => c.part?.startsWith('agent-')).every((c) => c.status === 'completed')).toBe(true);
    expect(done.children.filter((c) => !c.part?.startsWith('agent-')).every((c) => c.status === 'cancelled' && c.startedAt === null)).toBe(true);
    expect((await approvalOf(job.id))!.state).toBe('rejected');
    // The author rejected it: nobody needs telling of its end (announced, if at all, before the workflow ends).
    await temporal.client.workflow.getHandle(jobWorkflowId(job.id)).result();
    expect(await notified(job.id)).toEqual([['Demo User', 'job.awaiting_approval']]);
  });

  it('acts on its timeout as the template says: cancel, or proceed', async () => {
    const cancelled = (await submit({ approval: true, approvalTimeoutSeconds: 1, approvalTimeoutAction: 'cancel' })).job;
    const proceeded = (await submit({ approval: true, approvalTimeoutSeconds: 1, approvalTimeoutAction: 'proceed' })).job;
    const [c, p] = await Promise.all([finished(cancelled.id), finished(proceeded.id)]);
    expect([c.status, c.error]).toEqual(['cancelled', 'Nobody approved in time.']);
    expect(p.status).toBe('completed');
    expect((await approvalOf(cancelled.id))!.state).toBe('timed_out');
    expect((await approvalOf(proceeded.id))!.state).toBe('timed_out');
    // Nobody chose the cancellation: its author hears of it as of any end.
    await Promise.all([cancelled, proceeded].map((j) => temporal.client.workflow.getHandle(jobWorkflowId(j.id)).result()));
    expect(await notified(cancelled.id)).toEqual([
      ['Demo User', 'job.awaiting_approval'],
      ['Demo User', 'job.cancelled'],
    ]);
    expect(await notified(proceeded.id)).toEqual([
      ['Demo User', 'job.awaiting_approval'],
      ['Demo User', 'job.completed'],
    ]);
    await recordHistory(temporal.client, 'collaboration-approval-timed-out', jobWorkflowId(cancelled.id));
  });
});
