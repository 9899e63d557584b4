import { z } from 'zod';
import { projectInput, teamNameInput, teamRoles } from '../../services/teams';
import { protectedProcedure, router } from '../init';

const team = z.object({ teamId: z.uuid() });
const member = team.extend({ userId: z.uuid() });

export const teamsRouter = router({
  list: protectedProcedure.query(({ ctx }) => ctx.services.teams.list(ctx.user.id)),

  create: protectedProcedure
    .input(z.object({ name: teamNameInput }))
    .mutation(({ ctx, input }) => ctx.services.teams.create(ctx.user, input.name)),

  get: protectedProcedure.input(team).query(({ ctx, input }) => ctx.services.teams.get(ctx.user.id, input.teamId)),

  createProject: protectedProcedure
    .input(team.extend(projectInput.shape))
    .mutation(({ ctx, input: { teamId, ...project } }) => ctx.services.teams.createProject(ctx.user, teamId, project)),

  changeRole: protectedProcedure
    .input(member.extend({ role: z.enum(teamRoles) }))
    .mutation(({ ctx, input }) => ctx.services.teams.changeRole(ctx.user, input.teamId, input.userId, input.role)),

  removeMember: protectedProcedure
    .input(member)
    .mutation(({ ctx, input }) => ctx.services.teams.removeMember(ctx.user, input.teamId, input.userId)),

  leave: protectedProcedure.input(team).mutation(({ ctx, input }) => ctx.services.teams.leave(ctx.user, input.teamId)),
});
