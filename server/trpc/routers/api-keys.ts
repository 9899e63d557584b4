import { z } from 'zod';
import { apiKeyCreateInput } from '../../services/api-keys';
import { protectedProcedure, router } from '../init';

export const apiKeysRouter = router({
  create: protectedProcedure.input(apiKeyCreateInput).mutation(({ ctx, input }) => ctx.services.apiKeys.create(ctx.user, input)),
  list: protectedProcedure.query(({ ctx }) => ctx.services.apiKeys.list(ctx.user)),
  revoke: protectedProcedure.input(z.object({ id: z.uuid() })).mutation(({ ctx, input }) => ctx.services.apiKeys.revoke(ctx.user, input.id)),
});
