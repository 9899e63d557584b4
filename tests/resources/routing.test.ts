import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useJobStack } from '../support/job-stack';
import { resourceManagerWorkflowId } from '../../workflows/resources/api';
import { schedulerWorkflowId, statusQuery } from '../../workflows/scheduler/api';
import { hashPassword } from '../../server/auth/password';
import { ensureResourceManager } from '../../server/temporal/resource-manager';
import { until } from '../support/until';
import { openaiCloud } from '../support/llm';
import { seedCatalog } from '../../prisma/seed';

/**
 * Routing under pressure end to end: the resource manager sees the local pool's wait pass its
 * threshold and tells the scheduler, which sends a job of a tier that allows fallback to the cloud
 * long before that tier's own threshold, while a tier without fallback keeps waiting locally.
 */

const simulator = { tokensPerSecond: 400, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 20 };
const { temporal, stack, sim: local } = useJobStack({
  seed: false,
  simulators: [{ ...simulator, slots: 1 }],
  cloud: { ...openaiCloud, ...simulator, slots: 8 },
  slots: 1,
  leaseCheckMs: 1_000,
});

async function createMember(name: string, tier: string) {
  const password = `${name}-password`;
  const team = await stack.prisma.team.create({
    data: {
      name,
      slug: name,
      tier: { connect: { name: tier } },
      memberships: { create: { role: 'owner', user: { create: { email: `${name}@example.com`, name, passwordHash: await hashPassword(password) } } } },
      projects: { create: { name: `${name} project` } },
    },
    include: { projects: true },
  });
  const member = await stack.signIn(`${name}@example.com`, password);
  const submit = async (requirements: string) =>
    (await member.caller.jobs.submit({ projectId: team.projects[0]!.id, requirements, clientKey: crypto.randomUUID(), priority: 'normal' })).id;
  return { submit };
}

beforeAll(async () => {
  await stack.prisma.catalogModel.createMany({ data: seedCatalog });
  for (const [name, cloudFallback] of [['patient', true], ['local-only', false]] as const) {
    // An hour before the tier itself would fall back: only pressure can send its job to the cloud.
    await stack.prisma.tier.create({
      data: { name, maxQueuedPerUser: 10, maxRunningPerUser: 10, allowedModels: [], poolPreference: ['local'], cloudFallback, cloudFallbackAfterSec: 3_600 },
    });
  }
  await stack.configureScheduler();
  await ensureResourceManager(temporal.client, stack.taskQueue, {
    sampleIntervalMs: 250,
    windowSize: 3,
    probeFailuresToDown: 2,
    preferCloudAfterWaitMs: 1_000,
    autoScaling: { minInstances: 1, maxInstances: 4, scaleUpQueueDepth: 50, scaleDownQueueDepth: 5, scaleUpCooldownMs: 600_000, scaleDownCooldownMs: 600_000 },
  });
}, 60_000);

afterAll(async () => {
  await temporal.client.workflow.getHandle(resourceManagerWorkflowId(stack.taskQueue)).terminate('test over').catch(() => {});
});


describe('routing under pressure', () => {
  it('sends a fallback tier’s job to the cloud while the local wait is too long, and stops when it falls', async () => {
    const [patient, localOnly, holder] = [await createMember('patient', 'patient'), await createMember('local-only', 'local-only'), await createMember('holder', 'local-only')];
    const row = (id: string) => stack.prisma.job.findUniqueOrThrow({ where: { id }, select: { status: true, backendId: true } });
    const scheduler = temporal.client.workflow.getHandle(schedulerWorkflowId(stack.taskQueue));
    const [localId, cloudId] = stack.backendIds;

    local.configure({ tokensPerSecond: 1 });
    const blocker = await holder.submit('hold the local slot');
    await until(async () => (await row(blocker)).status === 'running', 'the blocker to hold the local slot');
    const [fallback, waiting] = [await patient.submit('may go to the cloud'), await localOnly.submit('must stay local')];

    const done = await until(async () => {
      const job = await row(fallback);
      return job.status === 'completed' && job;
    }, 'the fallback tier’s job to finish');
    expect(done.backendId).toBe(cloudId);
    expect((await scheduler.query(statusQuery)).pressuredPools).toEqual(['local']);
    expect((await row(waiting)).status).toBe('queued');

    local.configure({ tokensPerSecond: 400 });
    await until(async () => (await row(waiting)).status === 'completed', 'the local-only job to finish');
    expect((await row(waiting)).backendId).toBe(localId);
    await until(async () => (await scheduler.query(statusQuery)).pressuredPools.length === 0, 'the pressure to end');
  }, 120_000);
});
