import { z } from 'zod';
import { webhookCreateInput, webhookUpdateInput } from '../../services/webhooks';
import { protectedProcedure, router } from '../init';

export const webhooksRouter = router({
  list: protectedProcedure.input(z.object({ projectId: z.uuid() })).query(({ ctx, input }) => ctx.services.webhooks.list(ctx.user, input.projectId)),
  create: protectedProcedure.input(webhookCreateInput).mutation(({ ctx, input }) => ctx.services.webhooks.create(ctx.user, input)),
  update: protectedProcedure.input(webhookUpdateInput).mutation(({ ctx, input }) => ctx.services.webhooks.update(ctx.user, input)),
  delete: protectedProcedure.input(z.object({ webhookId: z.uuid() })).mutation(({ ctx, input }) => ctx.services.webhooks.remove(ctx.user, input.webhookId)),
});
