import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { isError, LimitError } from '../../server/errors';
import { positionQuery } from '../../workflows/scheduler/api';
import { useJobStack } from '../support/job-stack';
import { expectTrpcError } from '../support/trpc';
import { until } from '../support/until';

/**
 * Admission's bound on waiting jobs of everyone (MAX_WAITING_JOBS), against the real PostgreSQL and
 * Temporal dev server: past it every user is refused — on tRPC with the time a place is expected to
 * free, on the compatible API with 429 and Retry-After — and a refusal writes nothing and starts
 * no workflow. One slow slot: one job runs while the others wait with an ETA.
 */
const BOUND = 3;
const { stack, temporal } = useJobStack({
  simulators: [{ slots: 1, tokensPerSecond: 5, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 400 }],
  slots: 1,
  leaseCheckMs: 1_000,
  maxWaitingJobs: BOUND,
});

const MODEL = 'qwen2.5-coder:7b';
const FULL = /^The queue is full \(3 jobs waiting\); try at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/;

/** A user on a tier of its own (no per-user cap), in a team of their own, with a project and an API key. */
async function member() {
  const tag = randomUUID().slice(0, 8);
  const tier = await stack.prisma.tier.create({ data: { name: `q-${tag}`, allowedModels: [], poolPreference: ['local'], maxQueuedPerUser: 0 } });
  const user = await stack.prisma.user.create({ data: { email: `q-${tag}@example.com`, name: `Q ${tag}`, passwordHash: 'unused' }, select: { id: true, email: true, name: true, isAdmin: true } });
  const team = await stack.prisma.team.create({
    data: { name: `Team ${tag}`, slug: `q-${tag}`, tierId: tier.id, memberships: { create: { userId: user.id, role: 'owner' } }, projects: { create: { name: 'P' } } },
    include: { projects: true },
  });
  const { key } = await stack.services.apiKeys.create(user, { teamId: team.id, name: `key ${tag}` });
  const submit = (requirements: string) =>
    stack.caller(user).jobs.submit({ projectId: team.projects[0]!.id, requirements, clientKey: randomUUID(), priority: 'normal' });
  return { user, submit, api: new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: key, maxRetries: 0 }) };
}

const jobWorkflows = async () =>
  (await temporal.client.workflow.count(`TaskQueue = '${stack.taskQueue}' AND ExecutionStatus = 'Running' AND WorkflowType != 'schedulerWorkflow'`)).count;

describe('admission: the bound on waiting jobs', () => {
  it('refuses everyone once the bound is reached, naming when a place frees, with 429 and Retry-After on the API; nothing is written', async () => {
    const first = await member();
    const running = await first.submit('holds the only slot');
    await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id: running.id } })).status === 'running', 'the first job to run');
    const waiting = [await first.submit('waits 1'), await first.submit('waits 2'), await first.submit('waits 3')];
    await until(async () => {
      const positions = await Promise.all(waiting.map((job) => stack.scheduler().query(positionQuery, job.id)));
      return positions.every((position) => position?.etaMs != null);
    }, 'the scheduler to estimate every waiting job');
    await until(async () => (await jobWorkflows()) === 4, 'the four job workflows to be visible');
    const rowsBefore = await stack.prisma.job.count();

    // Another user, another team and tier: the bound is everyone's.
    const second = await member();
    const submittedAt = Date.now();
    const error = await expectTrpcError(second.submit('one too many'), 'TOO_MANY_REQUESTS');
    expect(error.message).toMatch(FULL);
    const cause = error.cause as LimitError;
    expect(isError(cause, LimitError)).toBe(true);
    // From the scheduler's ETA of the oldest waiting job: after the running one, within the test's horizon.
    expect(cause.retryAt!.getTime()).toBeGreaterThan(submittedAt);
    expect(cause.retryAt!.getTime()).toBeLessThan(submittedAt + 30 * 60_000);

    const refused = await second.api.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'one too many' }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect((refused as Error).message).toMatch(/The queue is full \(3 jobs waiting\); try at .+ UTC\./);
    const retryAfter = Number((refused as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(30 * 60);

    // Nothing written, nothing started.
    expect(await stack.prisma.job.count()).toBe(rowsBefore);
    expect(await stack.prisma.job.count({ where: { userId: second.user.id } })).toBe(0);
    expect(await jobWorkflows()).toBe(4);

    // A place frees when a waiting job leaves: the next submit is admitted.
    await stack.caller(first.user).jobs.cancel({ jobId: waiting[2]!.id });
    await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id: waiting[2]!.id } })).status === 'cancelled', 'the cancel');
    const admitted = await second.submit('fits again');
    expect(await stack.prisma.job.count({ where: { userId: second.user.id } })).toBe(1);

    for (const job of [running, waiting[0]!, waiting[1]!]) await stack.caller(first.user).jobs.cancel({ jobId: job.id });
    await stack.caller(second.user).jobs.cancel({ jobId: admitted.id });
  }, 120_000);
});
