import { pathToFileURL } from 'node:url';
import { hashPassword } from '../server/auth/password.ts';
import { createPrisma } from '../server/db/client.ts';
import type { Prisma } from '../server/generated/prisma/client.ts';

/**
 * Reference data every install needs (the model catalogue, the tiers a team is created on) and,
 * in development and tests only, demo data (two known accounts, a team, a project). Production
 * gets no account at all: its first admin comes from `npm run admin:bootstrap`. Idempotent: every
 * row is upserted by its natural key and existing rows are left as they are, so running it again
 * (each `npm run dev` does) neither duplicates anything nor undoes what an admin changed since
 * (tier limits, passwords, roles, memberships).
 */

/**
 * What users choose, and what answers it: the code model falls back to GPT-4o mini in the cloud,
 * the general model is local only, and the large code model (enterprise) to GPT-4o. Prices are
 * what a job is charged wherever it runs: the cloud list price of the fallback, nothing for a model
 * that never leaves the GPUs. The simulator of `npm run dev` serves the Ollama side of every entry.
 */
export const seedCatalog = [
  {
    name: 'qwen2.5-coder:7b',
    description: 'Qwen2.5 Coder 7B: quick code generation. At peak, GPT-4o mini in the cloud may answer.',
    contextLength: 32_768,
    inputPricePer1k: 0.00015,
    outputPricePer1k: 0.0006,
    maxOutputTokens: 4_096,
    ollamaModel: 'qwen2.5-coder:7b',
    openaiModel: 'gpt-4o-mini',
  },
  {
    name: 'llama3.1:8b',
    description: 'Llama 3.1 8B: explanations and general questions; runs only on our GPUs.',
    contextLength: 131_072,
    inputPricePer1k: 0,
    outputPricePer1k: 0,
    maxOutputTokens: 4_096,
    ollamaModel: 'llama3.1:8b',
    openaiModel: null,
  },
  {
    name: 'qwen2.5-coder:32b',
    description: 'Qwen2.5 Coder 32B: the strongest code model, for enterprise teams; GPT-4o in the cloud.',
    contextLength: 32_768,
    inputPricePer1k: 0.0025,
    outputPricePer1k: 0.01,
    maxOutputTokens: 8_192,
    ollamaModel: 'qwen2.5-coder:32b',
    openaiModel: 'gpt-4o',
  },
] satisfies Prisma.CatalogModelCreateInput[];

const everyoneModels = ['qwen2.5-coder:7b', 'llama3.1:8b'];

// Pools are where jobs run; cloud is a fallback at peak (`cloudFallback`), not a pool preferred.
export const seedTiers = [
  {
    name: 'free',
    weight: 1,
    basePriority: 0,
    maxRunningPerUser: 1,
    maxQueuedPerUser: 3,
    tokenBudget: 200_000,
    budgetPeriodSeconds: 86_400,
    allowedModels: everyoneModels,
    poolPreference: ['local'],
    cloudFallback: true,
    cloudFallbackAfterSec: 30,
    minShare: 0,
    maxPromptChars: 8_000,
    maxOutputTokens: 1_024,
    // Off until an admin turns it on: a held batch trades up to its timeout of wait for a model load saved.
    batchEnabled: false,
    maxBatchSize: 5,
    batchTimeoutSec: 30,
  },
  {
    name: 'premium',
    weight: 2,
    basePriority: 10,
    maxRunningPerUser: 2,
    maxQueuedPerUser: 10,
    tokenBudget: 2_000_000,
    budgetPeriodSeconds: 86_400,
    allowedModels: everyoneModels,
    poolPreference: ['local'],
    cloudFallback: true,
    cloudFallbackAfterSec: 60,
    minShare: 0,
    maxPromptChars: 32_000,
    maxOutputTokens: 4_096,
    batchEnabled: false,
    maxBatchSize: 5,
    batchTimeoutSec: 30,
  },
  {
    name: 'enterprise',
    weight: 4,
    basePriority: 20,
    maxRunningPerUser: 4,
    maxQueuedPerUser: 50,
    // 0 = unlimited tokens; [] = every catalogue model; output cap 0 = each model's own.
    tokenBudget: 0,
    budgetPeriodSeconds: 86_400,
    allowedModels: [],
    poolPreference: ['dedicated', 'local'],
    cloudFallback: true,
    cloudFallbackAfterSec: 120,
    minShare: 0.25,
    maxPromptChars: 64_000,
    maxOutputTokens: 0,
    batchEnabled: false,
    maxBatchSize: 5,
    batchTimeoutSec: 30,
  },
] satisfies Prisma.TierCreateInput[];

export const seedUsers = {
  admin: { email: 'admin@switchyard.dev', name: 'Admin', password: 'admin-password', isAdmin: true },
  demo: { email: 'demo@switchyard.dev', name: 'Demo User', password: 'demo-password', isAdmin: false },
} as const;

export const seedTeam = { name: 'Demo Team', slug: 'demo', tier: 'premium' } as const;
export const seedProject = { name: 'Demo Project', description: 'A place to try Switchyard' } as const;

export interface SeedOptions {
  /** The demo accounts, team and project: development and tests only, never production. */
  demo: boolean;
}

export async function seedDatabase(databaseUrl: string, { demo }: SeedOptions): Promise<void> {
  const prisma = createPrisma(databaseUrl);
  try {
    // Hash outside the transaction (argon2 is deliberately slow), and only for users still missing.
    const hashes = new Map<string, string>();
    if (demo) {
      const existing = new Set(
        (await prisma.user.findMany({ where: { email: { in: Object.values(seedUsers).map((u) => u.email) } }, select: { email: true } }))
          .map((u) => u.email),
      );
      for (const user of Object.values(seedUsers)) {
        if (!existing.has(user.email)) hashes.set(user.email, await hashPassword(user.password));
      }
    }

    // Generous limits: Prisma's 5 s default expires the transaction on a busy machine, and what
    // follows then fails outside it (a team whose tier it cannot see).
    await prisma.$transaction(async (tx) => {
      for (const model of seedCatalog) {
        await tx.catalogModel.upsert({ where: { name: model.name }, create: model, update: {} });
      }
      const tiers = new Map<string, string>();
      for (const tier of seedTiers) {
        const { id } = await tx.tier.upsert({ where: { name: tier.name }, create: tier, update: {}, select: { id: true } });
        tiers.set(tier.name, id);
      }
      const applied = { models: seedCatalog.map((m) => m.name), tiers: seedTiers.map((t) => t.name) };
      const demoData = demo ? await seedDemo(tx, tiers, hashes) : undefined;

      const seeded = await tx.auditLog.findFirst({ where: { action: 'seed.applied' }, select: { id: true } });
      if (!seeded) {
        await tx.auditLog.create({
          data: {
            actorId: null,
            teamId: demoData?.teamId,
            action: 'seed.applied',
            targetType: 'database',
            targetId: 'seed',
            data: demoData ? { ...applied, users: demoData.users, team: seedTeam.slug, projectId: demoData.projectId } : applied,
          },
        });
      }
    }, { maxWait: 30_000, timeout: 60_000 });
  } finally {
    await prisma.$disconnect();
  }
}

/**
 * The demo accounts, team and project. An existing account is left as it is: an admin who demoted
 * or re-passworded it is not overruled at the next start.
 */
async function seedDemo(tx: Prisma.TransactionClient, tiers: Map<string, string>, hashes: Map<string, string>) {
  const users: Record<keyof typeof seedUsers, string> = { admin: '', demo: '' };
  for (const [key, user] of Object.entries(seedUsers) as [keyof typeof seedUsers, (typeof seedUsers)[keyof typeof seedUsers]][]) {
    const passwordHash = hashes.get(user.email);
    const { id } = passwordHash
      ? await tx.user.upsert({
          where: { email: user.email },
          create: { email: user.email, name: user.name, isAdmin: user.isAdmin, passwordHash },
          update: {},
          select: { id: true },
        })
      : await tx.user.findUniqueOrThrow({ where: { email: user.email }, select: { id: true } });
    users[key] = id;
  }

  const team = await tx.team.upsert({
    where: { slug: seedTeam.slug },
    create: { name: seedTeam.name, slug: seedTeam.slug, tierId: tiers.get(seedTeam.tier)! },
    update: {},
    select: { id: true },
  });
  for (const [userId, role] of [
    [users.demo, 'owner'],
    [users.admin, 'member'],
  ] as const) {
    await tx.membership.upsert({
      where: { userId_teamId: { userId, teamId: team.id } },
      create: { userId, teamId: team.id, role },
      update: {},
    });
  }
  const project = await tx.project.upsert({
    where: { teamId_name: { teamId: team.id, name: seedProject.name } },
    create: { teamId: team.id, ...seedProject },
    update: {},
    select: { id: true },
  });
  return { users: Object.values(seedUsers).map((u) => u.email), teamId: team.id, projectId: project.id };
}

async function main(): Promise<void> {
  const { loadStackEnv, loadOrExit } = await import('../server/env.ts');
  const env = loadOrExit(() => loadStackEnv());
  if (!env.DATABASE_URL) {
    console.error(
      'DATABASE_URL is not set. `npm run dev` starts the embedded PostgreSQL and runs migrations and this seed itself; ' +
        'to seed another database, set DATABASE_URL=postgresql://… and run `npm run db:seed` again.',
    );
    process.exit(1);
  }
  const demo = env.NODE_ENV !== 'production';
  await seedDatabase(env.DATABASE_URL, { demo });
  const demoLine = demo
    ? `users ${Object.values(seedUsers).map((u) => u.email).join(', ')}, team "${seedTeam.name}", project "${seedProject.name}"`
    : 'no accounts (NODE_ENV=production; create the first admin with `npm run admin:bootstrap -- --email you@example.com`)';
  console.log(`Seeded ${new URL(env.DATABASE_URL).pathname.slice(1)}: models ${seedCatalog.map((m) => m.name).join(', ')}, tiers ${seedTiers.map((t) => t.name).join('/')}, ${demoLine}.`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
