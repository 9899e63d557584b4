import { z } from 'zod';
import { protectedProcedure, router } from '../init';

export const projectsRouter = router({
  list: protectedProcedure.query(({ ctx }) => ctx.services.projects.list(ctx.user.id)),
  get: protectedProcedure
    .input(z.object({ projectId: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const { id, name, description, team } = await ctx.services.projects.require(ctx.user.id, input.projectId);
      return { id, name, description, team: { id: team.id, name: team.name }, models: await ctx.services.catalog.offeredTo(team.tier) };
    }),
});
