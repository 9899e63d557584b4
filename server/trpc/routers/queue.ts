import { router, workflowQueryProcedure } from '../init';

export const queueRouter = router({
  /** First paint of the queue view and the refetch after a reconnect; live updates come over Socket.IO. */
  get: workflowQueryProcedure.query(({ ctx }) => ctx.services.queue.get(ctx.user)),
});
