import { protectedProcedure, router } from '../init';

export const queueRouter = router({
  /** First paint of the queue view and the refetch after a reconnect; live updates come over Socket.IO. */
  get: protectedProcedure.query(({ ctx }) => ctx.services.queue.get(ctx.user)),
});
