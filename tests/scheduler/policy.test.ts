import { beforeAll, describe, expect, it } from 'vitest';
import { useJobStack, type JobStack } from '../support/job-stack';
import { hashPassword } from '../../server/auth/password';
import { until } from '../support/until';
import { holdSlot as holdSlotWith } from '../support/hold-slot';
import { openaiCloud } from '../support/llm';
import { seedCatalog } from '../../prisma/seed';

/**
 * The scheduler's sharing rules end to end — jobs submitted through the service, granted by the
 * scheduler workflow on the real Temporal dev server, run on simulators: one local backend with
 * one slot, so the order jobs start in is the order they were granted in, and one cloud backend.
 */


type Member = Awaited<ReturnType<JobStack['signIn']>> & { projectId: string; teamId: string };

/** Tiers that differ only in what a test is about; caps high enough to queue a backlog. */
const TIERS = {
  even: { weight: 1, cloudFallback: false, minShare: 0 },
  triple: { weight: 3, cloudFallback: false, minShare: 0 },
  cloudy: { weight: 1, cloudFallback: true, minShare: 0 },
  // Half of the local slots (here: the one slot whenever it holds none) ahead of everyone else.
  guaranteed: { weight: 1, cloudFallback: false, minShare: 0.5 },
} as const;

/** One aging step per second instead of 30 s: a low-priority job (−10) reaches the top level in 10 s. */
const AGING_STEP_MS = 1_000;

const simulator = { tokensPerSecond: 400, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 20 };
const { stack, sim: local } = useJobStack({
  seed: false,
  simulators: [{ ...simulator, slots: 1 }],
  cloud: { ...openaiCloud, ...simulator, slots: 8 },
  slots: 1,
  leaseCheckMs: 1_000,
  schedulerConfig: { aging: { stepMs: AGING_STEP_MS, max: 10 } },
});

async function createMember(name: string, tier: keyof typeof TIERS): Promise<Member> {
  const password = `${name}-password`;
  const team = await stack.prisma.team.create({
    data: {
      name,
      slug: name,
      tier: { connect: { name: `policy-${tier}` } },
      memberships: {
        create: { role: 'owner', user: { create: { email: `${name}@example.com`, name, passwordHash: await hashPassword(password) } } },
      },
      projects: { create: { name: `${name} project` } },
    },
    include: { projects: true },
  });
  return { ...(await stack.signIn(`${name}@example.com`, password)), projectId: team.projects[0]!.id, teamId: team.id };
}

beforeAll(async () => {
  await stack.prisma.catalogModel.createMany({ data: seedCatalog });
  for (const [name, { weight, cloudFallback, minShare }] of Object.entries(TIERS)) {
    await stack.prisma.tier.create({
      data: {
        name: `policy-${name}`,
        weight,
        maxQueuedPerUser: 100,
        maxRunningPerUser: 100,
        allowedModels: [],
        poolPreference: ['local'],
        cloudFallback,
        cloudFallbackAfterSec: 1,
        minShare,
      },
    });
  }
  await stack.configureScheduler();
}, 60_000);



/** Submits and waits for the scheduler to take the job: the tests depend on the order of arrival. */
async function submit(member: Member, key: string, priority: 'low' | 'normal' = 'normal') {
  const job = await member.caller.jobs.submit({ projectId: member.projectId, requirements: `policy job ${key}`, clientKey: key, priority });
  await stack.untilScheduled(job.id);
  return job;
}

/** Holds the local slot with a job of `holder` until the returned `release`. */
async function holdSlot(holder: Member, key: string): Promise<() => Promise<void>> {
  const held = await holdSlotWith({
    sim: local,
    pace: simulator,
    submit: () => submit(holder, key),
    cancel: (jobId) => holder.caller.jobs.cancel({ jobId }),
    prisma: stack.prisma,
  });
  return held.release;
}

/** Holds the local slot while `fill` queues a backlog, then lets the backlog run and returns the teams of its jobs in the order they started. */
async function startOrder(holder: Member, fill: () => Promise<{ id: string }[]>): Promise<string[]> {
  const release = await holdSlot(holder, `blocker-${crypto.randomUUID()}`);
  const jobs = await fill();
  await release();
  return (await untilCompleted(jobs.map((job) => job.id))).map((job) => job.teamId);
}

/** The jobs once all have completed, in the order they started. */
async function untilCompleted(ids: string[]) {
  const rows = await until(async () => {
    const found = await stack.prisma.job.findMany({ where: { id: { in: ids } }, select: { id: true, teamId: true, status: true, startedAt: true, backendId: true } });
    return found.every((job) => job.status === 'completed') && found;
  }, 'the backlog to finish', 120_000);
  return rows.sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime());
}

const shareOf = (teamId: string, order: string[]) => order.filter((id) => id === teamId).length / order.length;

describe('sharing the slots between teams', () => {
  it('gives two equal-weight teams equal shares under contention, whatever order they queued in', async () => {
    const [a, b, holder] = [await createMember('even-a', 'even'), await createMember('even-b', 'even'), await createMember('even-holder', 'even')];
    // All of A's jobs queue before any of B's: first-come-first-served would run A's ten first.
    const order = await startOrder(holder, async () => {
      const jobs = [];
      for (let i = 0; i < 10; i++) jobs.push(await submit(a, `even-a-${i}`));
      for (let i = 0; i < 10; i++) jobs.push(await submit(b, `even-b-${i}`));
      return jobs;
    });
    const contended = order.slice(0, 10);
    expect(Math.abs(shareOf(a.teamId, contended) - 0.5)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(shareOf(b.teamId, contended) - 0.5)).toBeLessThanOrEqual(0.1);
  }, 180_000);

  it('gives a team on the web form and a team on the API equal shares: API requests queue like any job', async () => {
    const [web, api, holder] = [await createMember('mixed-web', 'even'), await createMember('mixed-api', 'even'), await createMember('mixed-holder', 'even')];
    const { key } = await stack.services.apiKeys.create(api.user, { teamId: api.teamId, name: 'policy' });
    // The path /v1/chat/completions takes once the key is checked and the body read.
    const caller = await stack.services.apiKeys.authenticate(key);
    const order = await startOrder(holder, async () => {
      const jobs = [];
      for (let i = 0; i < 10; i++) jobs.push(await submit(web, `mixed-web-${i}`));
      for (let i = 0; i < 10; i++) {
        const id = crypto.randomUUID();
        await stack.services.jobs.submitChat(caller, id, 'qwen2.5-coder:7b', { messages: [{ role: 'user', content: `policy chat ${i}` }] });
        await stack.untilScheduled(id);
        jobs.push({ id });
      }
      return jobs;
    });
    const contended = order.slice(0, 10);
    expect(Math.abs(shareOf(web.teamId, contended) - 0.5)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(shareOf(api.teamId, contended) - 0.5)).toBeLessThanOrEqual(0.1);
  }, 180_000);

  it('gives teams of weights 3 and 1 slots in the ratio 3:1', async () => {
    const [heavy, light, holder] = [await createMember('triple-h', 'triple'), await createMember('even-l', 'even'), await createMember('even-holder-2', 'even')];
    const order = await startOrder(holder, async () => {
      const jobs = [];
      for (let i = 0; i < 16; i++) jobs.push(await submit(light, `policy-light-${i}`));
      for (let i = 0; i < 16; i++) jobs.push(await submit(heavy, `policy-heavy-${i}`));
      return jobs;
    });
    const contended = order.slice(0, 16);
    expect(Math.abs(shareOf(heavy.teamId, contended) - 0.75)).toBeLessThanOrEqual(0.1);
  }, 180_000);
});

describe('priority with aging, and the guaranteed minimum', () => {
  it('lifts a starved low-priority job to the top level by aging, so it starts before the normal backlog behind it', async () => {
    const [patient, busy, holder] = [await createMember('aging-low', 'even'), await createMember('aging-busy', 'even'), await createMember('aging-holder', 'even')];
    const release = await holdSlot(holder, 'aging-blocker');
    const low = await submit(patient, 'aging-low', 'low');
    const normal = await Promise.all([0, 1, 2, 3, 4].map((i) => submit(busy, `aging-normal-${i}`)));
    // At first the low job is behind every normal one; aged to the top level it is next (first in, and its team has no usage).
    expect((await patient.caller.jobs.live({ jobId: low.id })).queue?.position).toBe(5);
    await until(async () => (await patient.caller.jobs.live({ jobId: low.id })).queue?.position === 0, 'aging to lift the low job', 30_000);
    await release();
    const rows = await untilCompleted([low.id, ...normal.map((job) => job.id)]);
    expect(rows[0]!.id).toBe(low.id);
  }, 120_000);

  it('keeps a team’s guaranteed minimum while a heavier team bursts', async () => {
    const [small, heavy, holder] = [await createMember('min-small', 'guaranteed'), await createMember('min-heavy', 'triple'), await createMember('min-holder', 'even')];
    const order = await startOrder(holder, async () => {
      const jobs = [];
      // The heavy team queues first, and has three times the weight.
      for (let i = 0; i < 8; i++) jobs.push(await submit(heavy, `min-heavy-${i}`));
      for (let i = 0; i < 3; i++) jobs.push(await submit(small, `min-small-${i}`));
      return jobs;
    });
    // Whenever the slot frees and the small team holds none, it is below its minimum: its job goes next.
    expect(order.slice(0, 3)).toEqual([small.teamId, small.teamId, small.teamId]);
    expect(order.slice(3)).toEqual(Array(8).fill(heavy.teamId));
  }, 180_000);
});

describe('cloud fallback', () => {
  it('sends a job to the cloud only when its tier allows it and the local wait is too long', async () => {
    const [allowed, notAllowed, holder] = [await createMember('cloudy', 'cloudy'), await createMember('local-only', 'even'), await createMember('cloud-holder', 'even')];
    const [cloudId] = stack.backendIds.filter((id) => id.startsWith('openai@'));
    const release = await holdSlot(holder, 'cloud-blocker');

    const [fallback, waiting] = [await submit(allowed, 'cloud-allowed'), await submit(notAllowed, 'cloud-not-allowed')];
    const done = await until(async () => {
      const job = await stack.prisma.job.findUniqueOrThrow({ where: { id: fallback.id } });
      return job.status === 'completed' && job;
    }, 'the cloud-allowed job to finish');
    expect(done.backendId).toBe(cloudId);
    // Meanwhile the other tier's job keeps waiting for the local slot …
    expect((await stack.prisma.job.findUniqueOrThrow({ where: { id: waiting.id } })).status).toBe('queued');

    // … and runs there once it frees.
    await release();
    const [ran] = await untilCompleted([waiting.id]);
    expect(ran!.backendId).toBe(stack.backendIds[0]);
  }, 120_000);
});
