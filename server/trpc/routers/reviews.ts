import { z } from 'zod';
import { REVIEW_DEPTHS, reviewPath, reviewSource } from '../../services/review-input';
import { modelName } from '../../services/text-input';
import { protectedProcedure, router } from '../init';
import { priority } from './jobs';

export const submitReviewInput = z.object({
  projectId: z.uuid(),
  source: reviewSource,
  depth: z.enum(REVIEW_DEPTHS).default('standard'),
  model: modelName('The model').optional(),
  priority: priority.default('normal'),
  clientKey: z.string().regex(/^[\w-]{8,100}$/, 'The client key must be 8–100 letters, digits, _ or -.'),
});

export const reviewsRouter = router({
  submit: protectedProcedure.input(submitReviewInput).mutation(({ ctx, input }) => ctx.services.jobs.submitReview(ctx.user, input)),

  files: protectedProcedure.input(z.object({ jobId: z.uuid() })).query(({ ctx, input }) => ctx.services.reviews.files(ctx.user, input.jobId)),

  file: protectedProcedure
    .input(z.object({ jobId: z.uuid(), path: reviewPath }))
    .query(({ ctx, input }) => ctx.services.reviews.file(ctx.user, input.jobId, input.path)),
});
