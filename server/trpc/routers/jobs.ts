import { z } from 'zod';
import { JobStatus } from '../../generated/prisma/enums';
import { PRIORITIES, type PriorityName } from '../../services/jobs';
import { modelName, wellFormed } from '../../services/text-input';
import { adminProcedure, protectedProcedure, router, workflowQueryProcedure } from '../init';

export const priority = z.enum(Object.keys(PRIORITIES) as [PriorityName, ...PriorityName[]]);

/** The longest requirements a job may have; sets the body limit of `jobs.submit` (server/http/trpc.ts). */
export const MAX_REQUIREMENTS_CHARS = 100_000;

export const submitJobInput = z.object({
  projectId: z.uuid(),
  requirements: wellFormed(
    z.string().trim().min(1, 'Describe what to build.').max(MAX_REQUIREMENTS_CHARS, `Keep the requirements under ${MAX_REQUIREMENTS_CHARS.toLocaleString('en-US')} characters.`),
    'The requirements',
  ),
  model: modelName('The model').optional(),
  priority: priority.default('normal'),
  /** Short work the scheduler may batch with other jobs of its model (when the tier batches). */
  simple: z.boolean().default(false),
  clientKey: z.string().regex(/^[\w-]{8,100}$/, 'The client key must be 8–100 letters, digits, _ or -.'),
  reviewTimeoutSeconds: z.number().int().min(1).max(3600).optional(),
});

export const submitCollaborationInput = z.object({
  projectId: z.uuid(),
  task: submitJobInput.shape.requirements,
  /** Absent: the built-in template. */
  templateId: z.uuid().nullish(),
  clientKey: submitJobInput.shape.clientKey,
});

export const jobsRouter = router({
  submit: protectedProcedure.input(submitJobInput).mutation(({ ctx, input }) => ctx.services.jobs.submit(ctx.user, input)),

  /** A collaboration job (docs/collaboration.md): its agents, integration and review as child jobs. */
  submitCollaboration: protectedProcedure
    .input(submitCollaborationInput)
    .mutation(({ ctx, input }) => ctx.services.collaborations.submit(ctx.user, input)),

  list: protectedProcedure
    .input(
      z.object({
        projectId: z.uuid(),
        cursor: z.uuid().optional(),
        limit: z.number().int().min(1).max(100).default(25),
        status: z.enum(JobStatus).optional(),
      }),
    )
    .query(({ ctx, input }) => ctx.services.jobs.list(ctx.user, input.projectId, input)),

  get: protectedProcedure
    .input(z.object({ jobId: z.uuid() }))
    .query(({ ctx, input }) => ctx.services.jobs.get(ctx.user, input.jobId)),

  live: workflowQueryProcedure
    .input(z.object({ jobId: z.uuid() }))
    .query(({ ctx, input }) => ctx.services.jobs.live(ctx.user, input.jobId)),

  cancel: protectedProcedure
    .input(z.object({ jobId: z.uuid() }))
    .mutation(({ ctx, input }) => ctx.services.jobs.cancel(ctx.user, input.jobId)),

  retry: protectedProcedure
    .input(z.object({ jobId: z.uuid() }))
    .mutation(({ ctx, input }) => ctx.services.jobs.retry(ctx.user, input.jobId)),

  boost: adminProcedure
    .input(z.object({ jobId: z.uuid(), boost: z.number().int().min(-100).max(100) }))
    .mutation(({ ctx, input }) => ctx.services.jobs.boost(ctx.user, input.jobId, input.boost)),

  deadLetters: adminProcedure
    .input(z.object({ cursor: z.uuid().optional(), limit: z.number().int().min(1).max(100).default(50) }))
    .query(({ ctx, input }) => ctx.services.jobs.deadLetters(input)),
});
