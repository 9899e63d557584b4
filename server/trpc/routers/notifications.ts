import { z } from 'zod';
import { markReadInput } from '../../services/notifications';
import { protectedProcedure, router } from '../init';

export const notificationsRouter = router({
  list: protectedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(100).default(20) }))
    .query(({ ctx, input }) => ctx.services.notifications.list(ctx.user, input.limit)),
  markRead: protectedProcedure.input(markReadInput).mutation(({ ctx, input }) => ctx.services.notifications.markRead(ctx.user, input)),
});
