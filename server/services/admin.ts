import { z } from 'zod';
import type { SessionUser } from '../auth/session';
import { NotFoundError, ValidationError } from '../errors';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { JobStatus } from '../generated/prisma/enums';
import { tellScheduler as tellTheScheduler } from '../temporal/scheduler';
import type { TemporalProvider } from '../temporal/client';
import { DEFAULT_TIER } from './teams';
import { modelName, wellFormed, whole } from './text-input';

const distinct = (list: string[]) => new Set(list).size === list.length;

/** What an admin sets on a tier. The name is not among them: jobs and the scheduler refer to tiers by name. */
export const tierSettings = z.object({
  weight: whole('Weight').min(1, 'Weight must be at least 1.').max(1_000, 'Weight must be at most 1,000.'),
  basePriority: whole('Base priority').min(-100, 'Base priority must be between -100 and 100.').max(100, 'Base priority must be between -100 and 100.'),
  maxRunningPerUser: whole('Max running').min(0, 'Max running must be 0 (no limit) or more.').max(1_000, 'Max running must be at most 1,000.'),
  maxQueuedPerUser: whole('Max queued').min(0, 'Max queued must be 0 (no limit) or more.').max(10_000, 'Max queued must be at most 10,000.'),
  tokenBudget: whole('Token budget').min(0, 'Token budget must be 0 (unlimited) or more.').max(2_147_483_647, 'Token budget is too large.'),
  budgetPeriodSeconds: whole('Budget period').min(60, 'Budget period must be at least 60 seconds.').max(366 * 86_400, 'Budget period must be at most a year.'),
  allowedModels: z.array(modelName('A model')).max(100).refine(distinct, 'Name each model once.'),
  poolPreference: z
    .array(wellFormed(z.string().trim().min(1, 'A pool name is empty.').max(100, 'Keep pool names under 100 characters.'), 'A pool name'))
    .min(1, 'Name at least one pool.')
    .max(20)
    .refine(distinct, 'Name each pool once.'),
  cloudFallback: z.boolean(),
  cloudFallbackAfterSec: whole('Fallback wait').min(0, 'Fallback wait must be 0 or more seconds.').max(86_400, 'Fallback wait must be at most a day.'),
  minShare: z.number({ error: 'Minimum share must be a number.' }).min(0, 'Minimum share must be between 0 and 1.').max(1, 'Minimum share must be between 0 and 1.'),
  maxPromptChars: whole('Prompt limit').min(1, 'Prompt limit must be at least 1 character.').max(100_000, 'Prompt limit must be at most 100,000 (the most a job accepts).'),
  maxOutputTokens: whole('Output cap').min(0, 'Output cap must be 0 (the model’s own) or more.').max(1_000_000, 'Output cap must be at most 1,000,000 tokens.'),
  batchEnabled: z.boolean(),
  maxBatchSize: whole('Batch size').min(1, 'Batch size must be at least 1.').max(64, 'Batch size must be at most 64.'),
  batchTimeoutSec: whole('Batch timeout').min(0, 'Batch timeout must be 0 or more seconds.').max(600, 'Batch timeout must be at most 600 seconds.'),
});
export type TierSettings = z.infer<typeof tierSettings>;

export const tierName = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'Use 1–40 lower-case letters, digits and dashes, starting with a letter or digit.');

const tierSelect = {
  id: true,
  name: true,
  weight: true,
  basePriority: true,
  maxRunningPerUser: true,
  maxQueuedPerUser: true,
  tokenBudget: true,
  budgetPeriodSeconds: true,
  allowedModels: true,
  poolPreference: true,
  cloudFallback: true,
  cloudFallbackAfterSec: true,
  minShare: true,
  maxPromptChars: true,
  maxOutputTokens: true,
  batchEnabled: true,
  maxBatchSize: true,
  batchTimeoutSec: true,
  updatedAt: true,
  _count: { select: { teams: true } },
} satisfies Prisma.TierSelect & Record<keyof TierSettings, true>;

const teamSelect = {
  id: true,
  name: true,
  slug: true,
  tier: { select: { id: true, name: true } },
  _count: { select: { memberships: true } },
} satisfies Prisma.TeamSelect;

/** One audit entry as admins read it: who (as they are named now), what, on what, when. */
const auditSelect = {
  id: true,
  action: true,
  targetType: true,
  targetId: true,
  data: true,
  createdAt: true,
  actor: { select: { email: true, name: true } },
} satisfies Prisma.AuditLogSelect;

/** Every team's jobs as admins list them: no output, no requirements beyond a title's worth. */
const adminJobSelect = {
  id: true,
  status: true,
  model: true,
  priority: true,
  requirements: true,
  createdAt: true,
  finishedAt: true,
  backendId: true,
  error: true,
  team: { select: { id: true, name: true } },
  project: { select: { id: true, name: true } },
  user: { select: { email: true } },
} satisfies Prisma.JobSelect;

export interface AuditSearch {
  /** Part of the actor's email or name (case-insensitive). */
  who?: string | undefined;
  /** The start of the action, e.g. `job.` or `job.cancel`. */
  what?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** The last id of the previous page. */
  cursor?: string | undefined;
  limit: number;
}

export interface AdminJobSearch {
  teamId?: string | undefined;
  status?: JobStatus | undefined;
  cursor?: string | undefined;
  limit: number;
}

interface AdminDeps {
  prisma: PrismaClient;
  temporal: TemporalProvider;
}

/** Tiers and teams' tiers, for global admins. Every change is audited and handed to the scheduler. */
export function createAdminService({ prisma, temporal }: AdminDeps) {
  const tellScheduler = () => tellTheScheduler(temporal, prisma);
  const audit = (actor: SessionUser, action: string, targetType: string, targetId: string, data: Prisma.InputJsonValue) =>
    prisma.auditLog.create({ data: { actorId: actor.id, action, targetType, targetId, data } });

  /**
   * Models and pools a tier may name: the catalogue's models, and the pools backends are in or
   * tiers already name (so an edit never fails on a value it keeps).
   */
  async function options() {
    const [models, backends, tiers] = await Promise.all([
      prisma.catalogModel.findMany({ select: { name: true }, orderBy: { name: 'asc' } }),
      prisma.backend.findMany({ select: { pool: true } }),
      prisma.tier.findMany({ select: { poolPreference: true } }),
    ]);
    return {
      models: models.map((m) => m.name),
      pools: [...new Set([...backends.map((b) => b.pool), ...tiers.flatMap((t) => t.poolPreference)])].sort(),
    };
  }

  async function requireKnown(settings: TierSettings): Promise<void> {
    const known = await options();
    const model = settings.allowedModels.find((m) => !known.models.includes(m));
    if (model) throw new ValidationError(`There is no model ${model} in the catalogue; it has ${known.models.join(', ') || 'none'}.`, 'allowedModels');
    const pool = settings.poolPreference.find((p) => !known.pools.includes(p));
    if (pool) throw new ValidationError(`There is no pool ${pool}; known pools: ${known.pools.join(', ')}.`, 'poolPreference');
  }

  return {
    options,
    tellScheduler,

    async listTiers() {
      return prisma.tier.findMany({ select: tierSelect, orderBy: [{ basePriority: 'asc' }, { name: 'asc' }] });
    },

    async getTier(tierId: string) {
      const tier = await prisma.tier.findUnique({ where: { id: tierId }, select: tierSelect });
      if (!tier) throw new NotFoundError('tier');
      return tier;
    },

    async createTier(actor: SessionUser, name: string, settings: TierSettings) {
      await requireKnown(settings);
      const tier = await prisma.tier.create({ data: { name, ...settings }, select: tierSelect }).catch((error: unknown) => {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
          throw new ValidationError(`A tier named ${name} already exists.`, 'name');
        }
        throw error;
      });
      await audit(actor, 'tier.create', 'tier', tier.id, { name, ...settings });
      return { tier, scheduler: await tellScheduler() };
    },

    async updateTier(actor: SessionUser, tierId: string, settings: TierSettings) {
      await requireKnown(settings);
      const before = await prisma.tier.findUnique({ where: { id: tierId }, select: tierSelect });
      if (!before) throw new NotFoundError('tier');
      const tier = await prisma.tier.update({ where: { id: tierId }, data: settings, select: tierSelect });
      const changed = (Object.keys(settings) as (keyof TierSettings)[]).filter(
        (key) => JSON.stringify(before[key]) !== JSON.stringify(settings[key]),
      );
      await audit(actor, 'tier.update', 'tier', tierId, {
        name: tier.name,
        before: Object.fromEntries(changed.map((key) => [key, before[key]])),
        after: Object.fromEntries(changed.map((key) => [key, settings[key]])),
      });
      return { tier, scheduler: await tellScheduler() };
    },

    /** Only a tier no team is on, and not the one new teams start on; waiting jobs keep the policy they were admitted with. */
    async deleteTier(actor: SessionUser, tierId: string) {
      const tier = await prisma.tier.findUnique({ where: { id: tierId }, select: { name: true, _count: { select: { teams: true } } } });
      if (!tier) throw new NotFoundError('tier');
      if (tier.name === DEFAULT_TIER) throw new ValidationError(`New teams start on the ${tier.name} tier; it cannot be deleted.`);
      const inUse = () => new ValidationError(`Teams are on the ${tier.name} tier; move them to another tier first.`);
      if (tier._count.teams > 0) throw inUse();
      // The condition is re-checked by the delete itself: a team moved onto the tier meanwhile keeps it.
      const { count } = await prisma.tier.deleteMany({ where: { id: tierId, teams: { none: {} } } });
      if (count === 0) throw inUse();
      await audit(actor, 'tier.delete', 'tier', tierId, { name: tier.name });
      return { scheduler: await tellScheduler() };
    },

    async listTeams() {
      return prisma.team.findMany({ select: teamSelect, orderBy: [{ name: 'asc' }, { id: 'asc' }] });
    },

    /**
     * Moves a team to another tier. Its new jobs are admitted and scheduled by the new tier; jobs
     * already waiting or running keep the policy they were admitted with.
     */
    async setTeamTier(actor: SessionUser, teamId: string, tierId: string) {
      const [team, tier] = await Promise.all([
        prisma.team.findUnique({ where: { id: teamId }, select: teamSelect }),
        prisma.tier.findUnique({ where: { id: tierId }, select: { id: true, name: true } }),
      ]);
      if (!team) throw new NotFoundError('team');
      if (!tier) throw new ValidationError('There is no such tier.', 'tierId');
      if (team.tier.id === tier.id) return team;
      const moved = await prisma.team.update({ where: { id: teamId }, data: { tierId }, select: teamSelect });
      await audit(actor, 'team.tier', 'team', teamId, { before: team.tier.name, after: tier.name });
      return moved;
    },

    /** The audit log, newest first, a page at a time (by id, which grows with time). */
    async searchAudit({ who, what, from, to, cursor, limit }: AuditSearch) {
      const rows = await prisma.auditLog.findMany({
        where: {
          ...(who ? { actor: { OR: [{ email: { contains: who, mode: 'insensitive' } }, { name: { contains: who, mode: 'insensitive' } }] } } : {}),
          ...(what ? { action: { startsWith: what } } : {}),
          ...(from || to ? { createdAt: { ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) } } : {}),
          ...(cursor ? { id: { lt: BigInt(cursor) } } : {}),
        },
        select: auditSelect,
        orderBy: { id: 'desc' },
        take: limit + 1,
      });
      const page = rows.slice(0, limit).map((row) => ({ ...row, id: row.id.toString() }));
      return { entries: page, nextCursor: rows.length > limit ? page.at(-1)!.id : null };
    },

    /**
     * Any team's jobs, newest first. Reading other teams' work is an admin's power, so every
     * page read is itself audited (who looked, at which team's jobs, how many).
     */
    async listJobs(actor: SessionUser, { teamId, status, cursor, limit }: AdminJobSearch) {
      const rows = await prisma.job.findMany({
        where: { ...(teamId ? { teamId } : {}), ...(status ? { status } : {}) },
        select: adminJobSelect,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
        take: limit + 1,
      });
      const page = rows.slice(0, limit).map(({ requirements, ...job }) => ({ ...job, title: requirements.slice(0, 120) }));
      await audit(actor, 'admin.jobs.read', 'team', teamId ?? '*', { status: status ?? null, count: page.length });
      return { jobs: page, nextCursor: rows.length > limit ? page.at(-1)!.id : null };
    },
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
