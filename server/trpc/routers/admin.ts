import { z } from 'zod';
import { backendChange, tierName, tierSettings } from '../../services/admin';
import { catalogModelFields, catalogModelName, checkCatalogModel } from '../../services/catalog';
import { wellFormed } from '../../services/text-input';
import { adminProcedure, router } from '../init';

/** Tiers, the model catalogue and backends, for global admins; dead letters are `jobs.deadLetters`. */
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

  backends: adminProcedure.query(({ ctx }) => ctx.services.admin.listBackends()),

  updateBackend: adminProcedure
    .input(
      backendChange
        .extend({ backendId: wellFormed(z.string().min(1).max(200), 'The backend id') })
        .refine((input) => input.enabled !== undefined || input.slots !== undefined || input.prefetch !== undefined, 'Nothing to change.'),
    )
    .mutation(({ ctx, input: { backendId, ...change } }) => ctx.services.admin.updateBackend(ctx.user, backendId, change)),
});
