import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { seedTiers } from '../../prisma/seed';
import { useJobStack } from '../support/job-stack';
import { positionQuery, statusQuery } from '../../workflows/scheduler/api';
import { until } from '../support/until';
import { expectTrpcError, fieldsOf } from '../support/trpc';

/** Admin edits of tiers and backends against the real PostgreSQL and the scheduler workflow on the Temporal dev server. */

// One slow slot: a job holds it while another waits.
const { stack } = useJobStack({
  simulators: [{ slots: 1, tokensPerSecond: 5, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 400 }],
  slots: 1,
  leaseCheckMs: 1_000,
});

const { name: _free, ...freeSettings } = seedTiers.find((tier) => tier.name === 'free')!;
const admin = () => stack.signIn('admin@switchyard.dev', 'admin-password');


describe('admin: teams on tiers, and deleting a tier', () => {
  it('moves a team to another tier for its next jobs, audited; deletes only an unused tier; bad input changes nothing', async () => {
    const { caller } = await admin();
    const created = await caller.admin.createTier({ ...freeSettings, name: `move-${randomUUID().slice(0, 8)}`, poolPreference: ['local'] });
    const { caller: owner } = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const team = await owner.teams.create({ name: `Movers ${randomUUID().slice(0, 8)}` });
    expect((await caller.admin.teams()).find((t) => t.id === team.id)?.tier.name).toBe('free');

    await expectTrpcError(caller.admin.setTeamTier({ teamId: team.id, tierId: randomUUID() }), 'BAD_REQUEST');
    await expectTrpcError(caller.admin.setTeamTier({ teamId: randomUUID(), tierId: created.tier.id }), 'NOT_FOUND');
    expect((await stack.prisma.team.findUniqueOrThrow({ where: { id: team.id }, include: { tier: true } })).tier.name).toBe('free');

    const moved = await caller.admin.setTeamTier({ teamId: team.id, tierId: created.tier.id });
    expect(moved.tier.name).toBe(created.tier.name);
    const logged = await stack.prisma.auditLog.findFirstOrThrow({ where: { action: 'team.tier', targetId: team.id } });
    expect(logged.data).toEqual({ before: 'free', after: created.tier.name });

    // In use: refused, the tier stays. Unused again: deleted, audited, gone from the scheduler.
    const inUse = await expectTrpcError(caller.admin.deleteTier({ tierId: created.tier.id }), 'BAD_REQUEST');
    expect(inUse.message).toBe(`Teams are on the ${created.tier.name} tier; move them to another tier first.`);
    const free = await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'free' } });
    await caller.admin.setTeamTier({ teamId: team.id, tierId: free.id });
    expect((await caller.admin.deleteTier({ tierId: created.tier.id })).scheduler).toBe('updated');
    expect(await stack.prisma.tier.count({ where: { id: created.tier.id } })).toBe(0);
    expect(await stack.prisma.auditLog.count({ where: { action: 'tier.delete', targetId: created.tier.id } })).toBe(1);
    await expectTrpcError(caller.admin.deleteTier({ tierId: created.tier.id }), 'NOT_FOUND');

    const defaultTier = await expectTrpcError(caller.admin.deleteTier({ tierId: free.id }), 'BAD_REQUEST');
    expect(defaultTier.message).toBe('New teams start on the free tier; it cannot be deleted.');
    expect(await stack.prisma.tier.count({ where: { id: free.id } })).toBe(1);
  });
});

describe('admin: tier edits', () => {
  it('refuses bad edits field by field and changes nothing', async () => {
    const { caller } = await admin();
    const tier = await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'free' } });
    const audits = await stack.prisma.auditLog.count();

    const ranges = await expectTrpcError(
      caller.admin.updateTier({ ...freeSettings, tierId: tier.id, weight: 0, minShare: 1.5, basePriority: 500, poolPreference: [] }),
      'BAD_REQUEST',
    );
    expect(fieldsOf(ranges)).toEqual({
      weight: 'Weight must be at least 1.',
      minShare: 'Minimum share must be between 0 and 1.',
      basePriority: 'Base priority must be between -100 and 100.',
      poolPreference: 'Name at least one pool.',
    });
    const batching = await expectTrpcError(caller.admin.updateTier({ ...freeSettings, tierId: tier.id, maxBatchSize: 0, batchTimeoutSec: 601 }), 'BAD_REQUEST');
    expect(fieldsOf(batching)).toEqual({ maxBatchSize: 'Batch size must be at least 1.', batchTimeoutSec: 'Batch timeout must be at most 600 seconds.' });
    const model = await expectTrpcError(caller.admin.updateTier({ ...freeSettings, tierId: tier.id, allowedModels: ['gpt-9'] }), 'BAD_REQUEST');
    expect(fieldsOf(model)).toEqual({ allowedModels: 'There is no model gpt-9 in the catalogue; it has llama3.1:8b, qwen2.5-coder:32b, qwen2.5-coder:7b.' });
    const pool = await expectTrpcError(caller.admin.updateTier({ ...freeSettings, tierId: tier.id, poolPreference: ['local', 'mars'] }), 'BAD_REQUEST');
    expect(fieldsOf(pool)).toEqual({ poolPreference: expect.stringMatching(/^There is no pool mars; known pools: dedicated, local\.$/) });
    const taken = await expectTrpcError(caller.admin.createTier({ ...freeSettings, name: 'free' }), 'BAD_REQUEST');
    expect(fieldsOf(taken)).toEqual({ name: 'A tier named free already exists.' });
    await expectTrpcError(caller.admin.updateTier({ ...freeSettings, tierId: randomUUID() }), 'NOT_FOUND');

    expect(await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'free' } })).toEqual(tier);
    expect(await stack.prisma.tier.count()).toBe(seedTiers.length);
    expect(await stack.prisma.auditLog.count()).toBe(audits);
  });

  it('refuses non-admins, changing nothing', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const tier = await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'free' } });
    await expectTrpcError(demo.caller.admin.updateTier({ ...freeSettings, tierId: tier.id, weight: 50 }), 'FORBIDDEN');
    await expectTrpcError(demo.caller.backends.update({ backendId: stack.backendIds[0]!, enabled: false }), 'FORBIDDEN');
    expect(await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'free' } })).toEqual(tier);
    expect((await stack.prisma.backend.findUniqueOrThrow({ where: { id: stack.backendIds[0]! } })).enabled).toBe(true);
  });
});

describe('admin: edits reach the running scheduler', () => {
  it('a tier’s new base priority moves its waiting job at once, and the edit (batch settings too) is audited', async () => {
    const { caller, user } = await admin();
    const name = `edited-${randomUUID().slice(0, 6)}`;
    const created = await caller.admin.createTier({ ...freeSettings, name, poolPreference: ['local'], basePriority: 0, tokenBudget: 0 });
    expect(created.scheduler).toBe('updated');
    const team = await stack.prisma.team.create({
      data: { name: 'Edited', slug: name, tierId: created.tier.id, projects: { create: { name: 'P' } }, memberships: { create: { userId: user.id } } },
      include: { projects: true },
    });
    const submit = (requirements: string) =>
      caller.jobs.submit({ projectId: team.projects[0]!.id, requirements, clientKey: randomUUID(), priority: 'normal' });
    const running = await submit('holds the only slot');
    await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id: running.id } })).status === 'running', 'the first job to run');
    const waiting = await submit('waits');
    const before = await until(() => stack.scheduler().query(positionQuery, waiting.id), 'the waiting job’s position');

    const edited = await caller.admin.updateTier({
      ...freeSettings,
      tierId: created.tier.id,
      poolPreference: ['local'],
      basePriority: 50,
      tokenBudget: 0,
      batchEnabled: true,
      maxBatchSize: 3,
      batchTimeoutSec: 10,
    });
    expect(edited.scheduler).toBe('updated');
    // Aging may add a point meanwhile; only the edit adds fifty.
    await until(
      async () => ((await stack.scheduler().query(positionQuery, waiting.id))?.effectivePriority ?? -Infinity) >= before.effectivePriority + 50,
      'the scheduler to apply the new base priority',
    );
    const audit = await stack.prisma.auditLog.findFirstOrThrow({ where: { action: 'tier.update', targetId: created.tier.id } });
    expect(audit).toMatchObject({
      actorId: user.id,
      data: {
        name,
        before: { basePriority: 0, batchEnabled: false, maxBatchSize: 5, batchTimeoutSec: 30 },
        after: { basePriority: 50, batchEnabled: true, maxBatchSize: 3, batchTimeoutSec: 10 },
      },
    });

    for (const job of [waiting, running]) await caller.jobs.cancel({ jobId: job.id });
  }, 90_000);

  it('a backend’s slots and enabled flag reach the scheduler, and are audited', async () => {
    const { caller } = await admin();
    const id = stack.backendIds[0]!;
    const seen = async () => (await stack.scheduler().query(statusQuery)).backends.find((b) => b.id === id);

    expect((await caller.backends.update({ backendId: id, slots: 3 })).scheduler).toBe('updated');
    await until(async () => (await seen())?.slots === 3, 'three slots');
    expect((await caller.backends.list()).find((b) => b.id === id)).toMatchObject({ slots: 3, enabled: true, pool: 'local', live: { up: true } });

    await caller.backends.update({ backendId: id, enabled: false });
    await until(async () => (await seen()) === undefined, 'the disabled backend to leave the scheduler');
    await caller.backends.update({ backendId: id, enabled: true });
    await until(async () => (await seen())?.slots === 3, 'the backend to come back');

    // The stack registers its backends with prefetch 0.
    expect((await caller.backends.update({ backendId: id, prefetch: 2 })).backend.prefetch).toBe(2);
    await until(async () => (await seen())?.prefetch === 2, 'the scheduler to take the prefetch');

    const audits = await stack.prisma.auditLog.findMany({ where: { action: 'backend.update', targetId: id }, orderBy: { id: 'asc' } });
    const name = expect.stringMatching(/^127\.0\.0\.1:\d+$/);
    expect(audits.map((a) => a.data)).toEqual([
      { name, before: { slots: 1 }, after: { slots: 3 } },
      { name, before: { enabled: true }, after: { enabled: false } },
      { name, before: { enabled: false }, after: { enabled: true } },
      { name, before: { prefetch: 0 }, after: { prefetch: 2 } },
    ]);
    const empty = await expectTrpcError(caller.backends.update({ backendId: id }), 'BAD_REQUEST');
    expect(empty.message).toContain('Nothing to change.');
    const slots = await expectTrpcError(caller.backends.update({ backendId: id, slots: 0 }), 'BAD_REQUEST');
    expect(fieldsOf(slots)).toEqual({ slots: 'Slots must be between 1 and 256.' });
    const prefetch = await expectTrpcError(caller.backends.update({ backendId: id, prefetch: -1 }), 'BAD_REQUEST');
    expect(fieldsOf(prefetch)).toEqual({ prefetch: 'Prefetch must be between 0 and 512.' });
  }, 60_000);
});
