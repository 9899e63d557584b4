import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDatabase, seedUsers } from '../../prisma/seed.ts';
import { verifyPassword } from '../../server/auth/password.ts';
import { createPrisma, disconnectPrisma, getPrisma, type PrismaClient } from '../../server/db/client.ts';
import { applyMigrations } from '../../server/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
let prisma: PrismaClient;
beforeAll(async () => {
  db = await createTestDatabase();
  expect(await applyMigrations(db.url), 'the test template is already migrated').toEqual([]);
  prisma = createPrisma(db.url);
});
afterAll(async () => {
  await prisma.$disconnect();
  await disconnectPrisma();
  await db.drop();
});

describe('seedDatabase', () => {
  it('creates the demo data, and a second run changes nothing', async () => {
    await seedDatabase(db.url, { demo: true });
    await seedDatabase(db.url, { demo: true });

    const tiers = await prisma.tier.findMany({ orderBy: { weight: 'asc' } });
    expect(tiers.map((t) => [t.name, t.weight, t.basePriority, t.maxRunningPerUser, t.maxQueuedPerUser, t.tokenBudget])).toEqual([
      ['free', 1, 0, 1, 3, 200_000],
      ['premium', 2, 10, 2, 10, 2_000_000],
      ['enterprise', 4, 20, 4, 50, 0],
    ]);
    // Cloud is where every tier falls back at peak, never a pool it prefers; enterprise has its own pool first.
    expect(tiers.map((t) => [t.poolPreference, t.cloudFallback, t.maxOutputTokens])).toEqual([
      [['local'], true, 1_024],
      [['local'], true, 4_096],
      [['dedicated', 'local'], true, 0],
    ]);
    expect(tiers[2]).toMatchObject({ cloudFallbackAfterSec: 120, minShare: 0.25 });

    // What users choose, mapped to what each kind of backend serves; tiers name only catalogue models.
    const models = await prisma.catalogModel.findMany({ orderBy: { name: 'asc' } });
    expect(models.map((m) => [m.name, m.ollamaModel, m.openaiModel, m.enabled])).toEqual([
      ['llama3.1:8b', 'llama3.1:8b', null, true],
      ['qwen2.5-coder:32b', 'qwen2.5-coder:32b', 'gpt-4o', true],
      ['qwen2.5-coder:7b', 'qwen2.5-coder:7b', 'gpt-4o-mini', true],
    ]);
    for (const tier of tiers) expect(models.map((m) => m.name)).toEqual(expect.arrayContaining(tier.allowedModels));

    const team = await prisma.team.findUniqueOrThrow({
      where: { slug: 'demo' },
      include: { tier: true, projects: true, memberships: { include: { user: true } } },
    });
    expect(team.tier.name).toBe('premium');
    expect(team.projects.map((p) => [p.name, p.description])).toEqual([['Demo Project', 'A place to try Switchyard']]);
    expect(Object.fromEntries(team.memberships.map((m) => [m.user.email, m.role]))).toEqual({
      'demo@switchyard.dev': 'owner',
      'admin@switchyard.dev': 'member',
    });

    const admin = await prisma.user.findUniqueOrThrow({ where: { email: seedUsers.admin.email } });
    expect(admin.isAdmin).toBe(true);
    expect(await verifyPassword(admin.passwordHash, 'admin-password')).toBe(true);
    expect(await prisma.user.count()).toBe(2);
    expect(await prisma.auditLog.count({ where: { action: 'seed.applied' } })).toBe(1);
  });

  it('leaves what an admin changed since', async () => {
    await prisma.tier.update({ where: { name: 'free' }, data: { maxQueuedPerUser: 7 } });
    await prisma.catalogModel.update({ where: { name: 'llama3.1:8b' }, data: { maxOutputTokens: 100 } });
    await prisma.user.update({ where: { email: seedUsers.admin.email }, data: { isAdmin: false } });
    await seedDatabase(db.url, { demo: true });
    expect((await prisma.tier.findUniqueOrThrow({ where: { name: 'free' } })).maxQueuedPerUser).toBe(7);
    expect((await prisma.catalogModel.findUniqueOrThrow({ where: { name: 'llama3.1:8b' } })).maxOutputTokens).toBe(100);
    // An admin who was demoted stays demoted: the seed never re-promotes a known email.
    expect((await prisma.user.findUniqueOrThrow({ where: { email: seedUsers.admin.email } })).isAdmin).toBe(false);
  });

  it('gives production the catalogue and the tiers but no account, however often it runs', async () => {
    const fresh = await createTestDatabase();
    const client = createPrisma(fresh.url);
    try {
      await seedDatabase(fresh.url, { demo: false });
      await seedDatabase(fresh.url, { demo: false });
      expect(await client.user.count()).toBe(0);
      expect(await client.team.count()).toBe(0);
      expect((await client.tier.findMany({ orderBy: { weight: 'asc' } })).map((t) => t.name)).toEqual(['free', 'premium', 'enterprise']);
      expect(await client.catalogModel.count()).toBe(3);
      const applied = await client.auditLog.findMany({ where: { action: 'seed.applied' }, select: { data: true, teamId: true } });
      expect(applied).toEqual([{ teamId: null, data: { models: expect.any(Array), tiers: ['free', 'premium', 'enterprise'] } }]);
    } finally {
      await client.$disconnect();
      await fresh.drop();
    }
  });
});

describe('getPrisma', () => {
  it('returns one client per database URL for the whole process', async () => {
    const a = getPrisma({ DATABASE_URL: db.url });
    expect(getPrisma({ DATABASE_URL: db.url })).toBe(a);
    expect(await a.user.count()).toBe(2);
  });
});
