import { z } from 'zod';
import { JobStatus } from '../../generated/prisma/enums';
import { tierName, tierSettings } from '../../services/admin';
import { catalogModelFields, catalogModelName, checkCatalogModel } from '../../services/catalog';
import { residencyLimits } from '../../services/residency';
import { teamLimitSetting } from '../../services/teams';
import { wellFormed } from '../../services/text-input';
import { adminProcedure, router } from '../init';

/** Tiers and the model catalogue, for global admins; backends are `backends.*`, dead letters `jobs.deadLetters`. */
export const adminRouter = router({
  tiers: adminProcedure.query(async ({ ctx }) => {
    const [tiers, options] = await Promise.all([ctx.services.admin.listTiers(), ctx.services.admin.options()]);
    return { tiers, options };
  }),

  tier: adminProcedure
    .input(z.object({ tierId: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [tier, options] = await Promise.all([ctx.services.admin.getTier(input.tierId), ctx.services.admin.options()]);
      return { tier, options };
    }),

  createTier: adminProcedure
    .input(tierSettings.extend({ name: tierName }))
    .mutation(({ ctx, input: { name, ...settings } }) => ctx.services.admin.createTier(ctx.user, name, settings)),

  updateTier: adminProcedure
    .input(tierSettings.extend({ tierId: z.uuid() }))
    .mutation(({ ctx, input: { tierId, ...settings } }) => ctx.services.admin.updateTier(ctx.user, tierId, settings)),

  deleteTier: adminProcedure
    .input(z.object({ tierId: z.uuid() }))
    .mutation(({ ctx, input }) => ctx.services.admin.deleteTier(ctx.user, input.tierId)),

  teams: adminProcedure.query(({ ctx }) => ctx.services.admin.listTeams()),

  /** Teams one person may own: what is in force, and whether an admin set it. */
  teamLimit: adminProcedure.query(({ ctx }) => ctx.services.teams.teamLimit()),

  setTeamLimit: adminProcedure
    .input(z.object({ maxTeamsPerUser: teamLimitSetting }))
    .mutation(({ ctx, input }) => ctx.services.teams.setTeamLimit(ctx.user, input.maxTeamsPerUser)),

  /** The audit log searched by who, what and when; paged by the last id seen. */
  audit: adminProcedure
    .input(
      z.object({
        who: wellFormed(z.string().trim().max(200, 'Keep “who” under 200 characters.'), 'Who').optional(),
        what: wellFormed(z.string().trim().max(100, 'Keep “what” under 100 characters.'), 'What').optional(),
        from: z.coerce.date({ error: 'From must be a date.' }).optional(),
        to: z.coerce.date({ error: 'To must be a date.' }).optional(),
        cursor: z.string().regex(/^\d{1,19}$/, 'Not a page of the audit log.').optional(),
        limit: z.number().int().min(1).max(100).default(50),
      }),
    )
    .query(({ ctx, input }) => ctx.services.admin.searchAudit(input)),

  /** Every team's jobs (each read audited); cancel, retry and boost are `jobs.*`. */
  jobs: adminProcedure
    .input(
      z.object({
        teamId: z.uuid().optional(),
        status: z.enum(JobStatus).optional(),
        cursor: z.uuid().optional(),
        limit: z.number().int().min(1).max(100).default(50),
      }),
    )
    .query(({ ctx, input }) => ctx.services.admin.listJobs(ctx.user, input)),

  setTeamTier: adminProcedure
    .input(z.object({ teamId: z.uuid(), tierId: z.uuid({ error: 'Choose a tier.' }) }))
    .mutation(({ ctx, input }) => ctx.services.admin.setTeamTier(ctx.user, input.teamId, input.tierId)),

  models: adminProcedure.query(({ ctx }) => ctx.services.catalog.list()),

  model: adminProcedure.input(z.object({ modelId: z.uuid() })).query(({ ctx, input }) => ctx.services.catalog.get(input.modelId)),

  createModel: adminProcedure
    .input(catalogModelFields.extend({ name: catalogModelName }).superRefine(checkCatalogModel))
    .mutation(({ ctx, input: { name, ...settings } }) => ctx.services.catalog.create(ctx.user, name, settings)),

  updateModel: adminProcedure
    .input(catalogModelFields.extend({ modelId: z.uuid() }).superRefine(checkCatalogModel))
    .mutation(({ ctx, input: { modelId, ...settings } }) => ctx.services.catalog.update(ctx.user, modelId, settings)),

  deleteModel: adminProcedure
    .input(z.object({ modelId: z.uuid() }))
    .mutation(({ ctx, input }) => ctx.services.catalog.remove(ctx.user, input.modelId)),

  /** What each Ollama backend has on disk and in memory, and the catalogue models a pool lacks. */
  residency: adminProcedure.query(({ ctx }) => ctx.services.residency.view()),

  pullModel: adminProcedure
    .input(
      z.object({
        backendId: wellFormed(z.string().min(1).max(200), 'The backend id'),
        model: wellFormed(z.string().min(1, 'Name the model to pull.').max(200), 'The model'),
      }),
    )
    .mutation(({ ctx, input }) => ctx.services.residency.pull(ctx.user, input.backendId, input.model)),

  setResidencyLimits: adminProcedure
    .input(residencyLimits.extend({ backendId: wellFormed(z.string().min(1).max(200), 'The backend id') }))
    .mutation(({ ctx, input: { backendId, ...limits } }) => ctx.services.residency.setLimits(ctx.user, backendId, limits)),
});
