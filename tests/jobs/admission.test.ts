import { randomUUID } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { useJobStack } from '../support/job-stack';
import { jobWorkflowId } from '../../workflows/definitions';
import { backendHealthSignal, positionQuery, schedulerWorkflowId } from '../../workflows/scheduler/api';
import { isError, LimitError, ValidationError } from '../../server/errors';
import type { Prisma } from '../../server/generated/prisma/client';
import { budgetWindow } from '../../server/services/admission';
import { recordUsage } from '../../server/services/usage-ledger';
import { until } from '../support/until';
import { expectTrpcError } from '../support/trpc';

/**
 * Admission against the real PostgreSQL and Temporal dev server: a refused submit leaves no job
 * row and starts no workflow. Each case has its own tier, team and user, so counts are its own.
 */

// One slow slot: a job holds it while others wait with an ETA.
const { temporal, stack } = useJobStack({
  simulators: [{ slots: 1, tokensPerSecond: 5, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 400 }],
  slots: 1,
  leaseCheckMs: 1_000,
});

beforeAll(async () => {
  // Pool "parked": a backend that serves the model but is down, so jobs admitted there wait.
  await stack.prisma.backend.create({ data: { id: 'parked', kind: 'ollama', name: 'parked', url: 'http://127.0.0.1:9', pool: 'parked', models: ['qwen2.5-coder:7b'] } });
  await stack.configureScheduler();
  await stack.scheduler().signal(backendHealthSignal, { backendId: 'parked', healthy: false });
});

/** A team on a tier of its own, with one owner and one project. Pool "parked": its jobs wait forever. */
async function teamOn(tier: Partial<Prisma.TierCreateInput>) {
  const tag = randomUUID().slice(0, 8);
  const created = await stack.prisma.tier.create({
    data: { name: `t-${tag}`, allowedModels: [], poolPreference: ['parked'], maxQueuedPerUser: 0, ...tier },
  });
  const user = await stack.prisma.user.create({
    data: { email: `u-${tag}@example.com`, name: `User ${tag}`, passwordHash: 'unused' },
    select: { id: true, email: true, name: true, isAdmin: true },
  });
  const team = await stack.prisma.team.create({
    data: {
      name: `Team ${tag}`,
      slug: `team-${tag}`,
      tierId: created.id,
      memberships: { create: { userId: user.id, role: 'owner' } },
      projects: { create: { name: 'P' } },
    },
    include: { projects: true },
  });
  const submit = (requirements = 'a small function', clientKey = randomUUID()) =>
    stack.caller(user).jobs.submit({ projectId: team.projects[0]!.id, requirements, clientKey, priority: 'normal' });
  return { tier: created, user, team, projectId: team.projects[0]!.id, submit };
}

const jobsOf = (userId: string) => stack.prisma.job.findMany({ where: { userId }, select: { id: true, status: true } });
const workflowsVisible = async (jobIds: string[]) => {
  const ids = jobIds.map((id) => `'${jobWorkflowId(id)}'`).join(', ');
  return (await temporal.client.workflow.count(`WorkflowId IN (${ids})`)).count;
};
const jobWorkflowsOnQueue = async () =>
  (await temporal.client.workflow.count(`TaskQueue = '${stack.taskQueue}' AND WorkflowType = 'codeGenerationWorkflow'`)).count;

describe('admission: the per-user queue cap', () => {
  it('refuses the job past the cap with the limit, when it frees, and nothing created; the same key still returns its job', async () => {
    const { user, submit } = await teamOn({ maxQueuedPerUser: 2, maxRunningPerUser: 1, poolPreference: ['local'] });
    const running = await submit('holds the only slot');
    await until(async () => (await jobsOf(user.id)).find((j) => j.id === running.id && j.status === 'running'), 'the first job to run');
    const firstKey = randomUUID();
    const queued = [await submit('waits 1', firstKey), await submit('waits 2')];
    const scheduler = temporal.client.workflow.getHandle(schedulerWorkflowId(stack.taskQueue));
    await until(async () => {
      const positions = await Promise.all(queued.map((job) => scheduler.query(positionQuery, job.id)));
      return positions.every((p) => p?.etaMs != null);
    }, 'the scheduler to estimate both waiting jobs');
    await until(async () => (await workflowsVisible([running.id, ...queued.map((j) => j.id)])) === 3, 'the three workflows to be visible');
    const rowsBefore = await stack.prisma.job.count();
    const workflowsBefore = await jobWorkflowsOnQueue();

    const submittedAt = Date.now();
    const error = await expectTrpcError(submit('one too many'), 'TOO_MANY_REQUESTS');
    expect(error.message).toMatch(/^You already have 2 queued jobs, the limit of the t-\w+ tier\. The next one is expected to start at .+ UTC; submit again then\.$/);
    const cause = error.cause as LimitError;
    expect(isError(cause, LimitError)).toBe(true);
    // From the scheduler's ETA of the first waiting job: after the running one, well within the test's horizon.
    expect(cause.retryAt!.getTime()).toBeGreaterThan(submittedAt);
    expect(cause.retryAt!.getTime()).toBeLessThan(submittedAt + 30 * 60_000);
    expect(await stack.prisma.job.count()).toBe(rowsBefore);

    // Idempotent even at the cap: the same key is the same job, not a refusal.
    expect((await submit('waits 1', firstKey)).id).toBe(queued[0]!.id);

    // Cancelling a waiting job frees its place; the next submit is visible in Temporal, the refused one never was.
    await stack.caller(user).jobs.cancel({ jobId: queued[1]!.id });
    await until(async () => (await jobsOf(user.id)).find((j) => j.id === queued[1]!.id && j.status === 'cancelled'), 'the cancel');
    const admitted = await submit('fits again');
    await until(async () => (await workflowsVisible([admitted.id])) === 1, 'the admitted job’s workflow to be visible');
    expect(await jobWorkflowsOnQueue()).toBe(workflowsBefore + 1);

    for (const job of [running, queued[0]!, admitted]) await stack.caller(user).jobs.cancel({ jobId: job.id });
  }, 120_000);

  it('admits exactly the allowed number of concurrent submits by one user', async () => {
    const { user, submit } = await teamOn({ maxQueuedPerUser: 3 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => submit(`burst ${i}`)));
    const admitted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as TRPCError] : []));
    expect(admitted).toHaveLength(3);
    expect(refused.map((e) => e.code)).toEqual(Array(5).fill('TOO_MANY_REQUESTS'));
    // Its jobs cannot start (the backend of its pool is down), so the scheduler has no time to offer.
    expect(refused[0]!.message).toMatch(/the limit of the t-\w+ tier\. You can submit another when one of them starts, or after cancelling one\.$/);
    expect((refused[0]!.cause as LimitError).retryAt).toBeUndefined();
    expect(await jobsOf(user.id)).toHaveLength(3);

    // The same key sent twice at once at the cap: one job, returned to both.
    const key = randomUUID();
    const { team } = await teamOn({ maxQueuedPerUser: 1 });
    const owner = (await stack.prisma.membership.findFirstOrThrow({ where: { teamId: team.id } })).userId;
    const caller = stack.caller({ id: owner, email: 'x', name: 'x', isAdmin: false });
    const same = () => caller.jobs.submit({ projectId: team.projects[0]!.id, requirements: 'once', clientKey: key, priority: 'normal' });
    const [a, b] = await Promise.all([same(), same()]);
    expect(a.id).toBe(b.id);
    expect(await jobsOf(owner)).toHaveLength(1);
  }, 60_000);
});

describe('admission: retries', () => {
  it('counts a retried job against its author’s cap like a new one; an admin’s retry overrides the cap', async () => {
    const { user, submit } = await teamOn({ maxQueuedPerUser: 1 });
    const first = await submit('cancelled, then retried');
    await stack.caller(user).jobs.cancel({ jobId: first.id });
    await until(async () => (await jobsOf(user.id)).find((j) => j.id === first.id && j.status === 'cancelled'), 'the cancel');
    const waiting = await submit('takes the only queued place');
    const runBefore = (await stack.prisma.job.findUniqueOrThrow({ where: { id: first.id } })).runId;

    const error = await expectTrpcError(stack.caller(user).jobs.retry({ jobId: first.id }), 'TOO_MANY_REQUESTS');
    expect(error.message).toMatch(/^You already have 1 queued jobs, the limit of the t-\w+ tier\./);
    // Refused before the row was claimed: still cancelled, no new run, nothing audited.
    const unchanged = await stack.prisma.job.findUniqueOrThrow({ where: { id: first.id } });
    expect(unchanged).toMatchObject({ status: 'cancelled', runId: runBefore });
    expect(await stack.prisma.auditLog.count({ where: { action: 'job.retry', targetId: first.id } })).toBe(0);

    const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
    await admin.caller.jobs.retry({ jobId: first.id });
    expect((await stack.prisma.job.findUniqueOrThrow({ where: { id: first.id } })).status).toBe('queued');
    expect(await stack.prisma.auditLog.count({ where: { action: 'job.retry', targetId: first.id } })).toBe(1);

    for (const job of [first, waiting]) await stack.caller(user).jobs.cancel({ jobId: job.id });
  }, 60_000);
});

describe('admission: the team token budget', () => {
  it('counts the current window only, and refuses past the budget with its reset time', async () => {
    const { tier, team, user, projectId, submit } = await teamOn({ tokenBudget: 1_000, budgetPeriodSeconds: 3_600 });
    const window = budgetWindow(3_600, Date.now());
    const job = await stack.prisma.job.create({
      data: { teamId: team.id, projectId, userId: user.id, clientKey: randomUUID(), requirements: 'earlier work', model: 'qwen2.5-coder:7b', workflowId: `usage-${randomUUID()}`, status: 'completed' },
    });
    const entry = { name: 'qwen2.5-coder:7b', inputPricePer1k: 0, outputPricePer1k: 0 };
    // Requests as the ledger records them when they end, dated as given.
    const usage = (tokens: number, at: Date) =>
      recordUsage(stack.prisma, { key: randomUUID(), jobId: job.id, kind: 'generation', entry, backendId: 'b', servedModel: 'm', promptTokens: tokens / 2, completionTokens: tokens / 2 }, at);
    // The previous window's tokens no longer count.
    await usage(5_000, new Date(window.start.getTime() - 1));
    await submit('fits the budget');

    await usage(1_000, new Date());
    const rowsBefore = await stack.prisma.job.count();
    const error = await expectTrpcError(submit('over budget'), 'TOO_MANY_REQUESTS');
    expect(error.message).toBe(
      `${team.name} has used 1,000 of the 1,000 tokens the ${tier.name} tier allows per hour; ` +
        `the budget resets at ${window.end.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    );
    expect((error.cause as LimitError).retryAt).toEqual(window.end);
    expect(await stack.prisma.job.count()).toBe(rowsBefore);
  });
});

describe('admission: prompt size', () => {
  it('is a field error on requirements naming the limit, and creates nothing', async () => {
    const { user, submit } = await teamOn({ maxPromptChars: 40 });
    const error = await expectTrpcError(submit('x'.repeat(41)), 'BAD_REQUEST');
    expect(error.message).toMatch(/^Requirements are 41 characters; the t-\w+ tier allows 40\.$/);
    expect(isError(error.cause, ValidationError) && error.cause.field).toBe('requirements');
    expect(await jobsOf(user.id)).toHaveLength(0);
    await submit('x'.repeat(40));
    expect(await jobsOf(user.id)).toHaveLength(1);
  });
});
