import { z } from 'zod';
import { usageInput } from '../../services/usage';
import { protectedProcedure, router } from '../init';

export const usageRouter = router({
  get: protectedProcedure.input(usageInput).query(({ ctx, input }) => ctx.services.usage.get(ctx.user, input)),
  budget: protectedProcedure.input(z.object({ teamId: z.uuid() })).query(({ ctx, input }) => ctx.services.usage.budget(ctx.user, input.teamId)),
});
