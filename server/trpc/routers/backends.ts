import { z } from 'zod';
import { backendFields, newBackendInput } from '../../services/backends';
import { wellFormed } from '../../services/text-input';
import { adminProcedure, router } from '../init';

const backendId = wellFormed(z.string().min(1).max(200), 'The backend id');

/** Backends as live configuration, for global admins (server/services/backends.ts; docs/backends.md). */
export const backendsRouter = router({
  list: adminProcedure.query(({ ctx }) => ctx.services.backends.list()),

  get: adminProcedure.input(z.object({ backendId })).query(({ ctx, input }) => ctx.services.backends.get(input.backendId)),

  create: adminProcedure.input(newBackendInput).mutation(({ ctx, input }) => ctx.services.backends.create(ctx.user, input)),

  update: adminProcedure
    .input(
      backendFields
        .partial()
        .extend({ backendId })
        .refine(({ backendId: _id, ...change }) => Object.values(change).some((value) => value !== undefined), 'Nothing to change.'),
    )
    .mutation(({ ctx, input: { backendId, ...change } }) => ctx.services.backends.update(ctx.user, backendId, change)),

  drain: adminProcedure.input(z.object({ backendId })).mutation(({ ctx, input }) => ctx.services.backends.drain(ctx.user, input.backendId)),

  undrain: adminProcedure.input(z.object({ backendId })).mutation(({ ctx, input }) => ctx.services.backends.undrain(ctx.user, input.backendId)),

  delete: adminProcedure.input(z.object({ backendId })).mutation(({ ctx, input }) => ctx.services.backends.remove(ctx.user, input.backendId)),
});
