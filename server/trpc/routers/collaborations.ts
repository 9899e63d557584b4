import { z } from 'zod';
import { templateInput } from '../../services/collaboration-template';
import { wellFormed } from '../../services/text-input';
import { protectedProcedure, router } from '../init';
import { MAX_REQUIREMENTS_CHARS } from './jobs';

const job = z.object({ jobId: z.uuid() });

export const collaborationsRouter = router({
  templates: protectedProcedure
    .input(z.object({ teamId: z.uuid() }))
    .query(({ ctx, input }) => ctx.services.collaborations.listTemplates(ctx.user.id, input.teamId)),

  saveTemplate: protectedProcedure
    .input(z.object({ teamId: z.uuid(), templateId: z.uuid().nullish(), template: templateInput }))
    .mutation(({ ctx, input }) => ctx.services.collaborations.saveTemplate(ctx.user, input.teamId, input.templateId ?? null, input.template)),

  deleteTemplate: protectedProcedure
    .input(z.object({ templateId: z.uuid() }))
    .mutation(({ ctx, input }) => ctx.services.collaborations.deleteTemplate(ctx.user, input.templateId)),

  get: protectedProcedure.input(job).query(({ ctx, input }) => ctx.services.collaborations.get(ctx.user, input.jobId)),

  decide: protectedProcedure
    .input(
      job.extend({
        action: z.enum(['approve', 'reject']),
        edits: z
          .array(
            z.object({
              part: z.string().regex(/^agent-[0-7]$/, 'Only an agent’s output can be edited.'),
              text: wellFormed(z.string().max(MAX_REQUIREMENTS_CHARS, 'An edited output must be under 100,000 characters.'), 'An edited output'),
            }),
          )
          .max(8)
          .default([]),
      }),
    )
    .mutation(({ ctx, input: { jobId, ...decision } }) => ctx.services.collaborations.decide(ctx.user, jobId, decision)),
});
