import { z } from 'zod';
import { protectedProcedure, router } from '../init';

const team = z.object({ teamId: z.uuid() });
// Tokens are 43 base64url characters; anything else cannot be one, and is refused before any lookup.
const token = z.object({ token: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, 'This invite link is not valid.') });

export const invitesRouter = router({
  create: protectedProcedure.input(team).mutation(({ ctx, input }) => ctx.services.invites.create(ctx.user, input.teamId)),
  list: protectedProcedure.input(team).query(({ ctx, input }) => ctx.services.invites.list(ctx.user, input.teamId)),
  revoke: protectedProcedure
    .input(team.extend({ inviteId: z.uuid() }))
    .mutation(({ ctx, input }) => ctx.services.invites.revoke(ctx.user, input.teamId, input.inviteId)),
  preview: protectedProcedure.input(token).query(({ ctx, input }) => ctx.services.invites.preview(ctx.user, input.token)),
  accept: protectedProcedure.input(token).mutation(({ ctx, input }) => ctx.services.invites.accept(ctx.user, input.token)),
});
