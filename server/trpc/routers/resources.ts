import { adminProcedure, router } from '../init';

export const resourcesRouter = router({
  /** Load per pool, backend health, routing pressure and the latest scale recommendations. */
  status: adminProcedure.query(({ ctx }) => ctx.services.resources.status()),
  /** The status as the resource manager last stored it (the admin page reads this one). */
  snapshot: adminProcedure.query(({ ctx }) => ctx.services.resources.snapshot()),
});
