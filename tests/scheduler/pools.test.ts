import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../simulator';
import { positionQuery, schedulerWorkflowId, statusQuery } from '../../workflows/scheduler/api';
import { useTestDatabase } from '../support/db';
import { startJobStack, type JobStack } from '../support/job-stack';
import { useTemporal } from '../support/temporal';
import { until } from '../support/until';
import { holdSlot } from '../support/hold-slot';

/**
 * Pools as the seeded tiers use them: enterprise prefers a `dedicated` pool, then `local`; premium
 * runs on `local` only. One Ollama backend of one slot in each pool, and no cloud: the local one
 * from the environment, the dedicated one added by an admin while everything runs.
 */

const db = useTestDatabase({ seed: true });
const temporal = useTemporal();
let local: Simulator;
let dedicated: Simulator;
let stack: JobStack;

const options = { slots: 1, tokensPerSecond: 400, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 30 };

beforeAll(async () => {
  [local, dedicated] = [await createSimulator(options), await createSimulator(options)];
  stack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: [local.url], slots: 1, leaseCheckMs: 1_000 });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([local?.close(), dedicated?.close()]);
});

const row = (id: string) => stack.prisma.job.findUniqueOrThrow({ where: { id }, select: { status: true, backendId: true } });

describe('pools by tier', () => {
  it('runs an enterprise team’s jobs on the dedicated pool while premium jobs wait for the local one', async () => {
    const [localId] = stack.backendIds;
    const scheduler = temporal.client.workflow.getHandle(schedulerWorkflowId(stack.taskQueue));
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const demoProject = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
    const premium = (requirements: string) =>
      demo.caller.jobs.submit({ projectId: demoProject, requirements, clientKey: randomUUID(), priority: 'normal' });

    const { caller: admin } = await stack.signIn('admin@switchyard.dev', 'admin-password');
    const { backend } = await admin.backends.create({ kind: 'ollama', name: 'GPU box', url: dedicated.url, pool: 'dedicated', slots: 1 });
    const dedicatedId = backend.id;
    const team = await admin.teams.create({ name: 'Enterprise team' });
    const project = await admin.teams.createProject({ teamId: team.id, name: 'Enterprise project' });
    const enterpriseTier = await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'enterprise' } });
    await admin.admin.setTeamTier({ teamId: team.id, tierId: enterpriseTier.id });
    const enterprise = (requirements: string) =>
      admin.jobs.submit({ projectId: project.id, requirements, clientKey: randomUUID(), priority: 'normal' });

    // The premium team fills the local slot and queues behind it.
    const holder = await holdSlot({
      sim: local,
      pace: options,
      submit: () => premium('hold the local slot'),
      cancel: (jobId) => demo.caller.jobs.cancel({ jobId }),
      prisma: stack.prisma,
    });
    const waiting = await premium('wait for the local slot');
    await stack.untilScheduled(waiting.id);

    // Enterprise jobs go to the dedicated pool at once, one after the other, past the premium queue.
    const jobs = [await enterprise('first enterprise job'), await enterprise('second enterprise job')];
    for (const job of jobs) {
      await until(async () => (await row(job.id)).status === 'completed', 'the enterprise job to finish');
      expect(await row(job.id)).toMatchObject({ backendId: dedicatedId });
    }
    expect(await row(holder.jobId)).toMatchObject({ status: 'running', backendId: localId });

    // The dedicated backend is idle now, and the premium job still waits for the local one.
    const status = await scheduler.query(statusQuery);
    expect(status.backends.find((b) => b.id === dedicatedId)).toMatchObject({ pool: 'dedicated', running: 0 });
    expect(await row(waiting.id)).toMatchObject({ status: 'queued', backendId: null });
    expect(await scheduler.query(positionQuery, waiting.id)).toMatchObject({ position: 0, pool: 'local', backendId: localId, blocked: null });

    await holder.release();
    await until(async () => (await row(waiting.id)).status === 'completed', 'the premium job to run locally');
    expect(await row(waiting.id)).toMatchObject({ backendId: localId });
  }, 120_000);
});
