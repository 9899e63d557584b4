import { ApplicationFailure, Context } from '@temporalio/activity';
import { Prisma, type PrismaClient } from '../server/generated/prisma/client';
import { jobUpdateRooms, type Publisher } from '../server/realtime/events';
import type { FinishJobInput, NotifyInput, PreparedChat, PreparedJob, PreparedReview, SaveChatInput, SaveResultInput } from './types';
import type { ReviewRequest } from '../server/services/review-input';
import { storedChat } from '../server/services/chat-request';
import { toTierPolicy } from '../server/services/tier-policy';
import { outputCap, type CatalogEntry } from '../server/services/catalog-mapping';
import type { CatalogLookup } from '../server/services/catalog-lookup';
import type { JobMetrics, JobOutcome } from '../server/metrics/jobs';
import { assessRequirements } from './complexity';
import { extractCode } from './extract-code';
import type { Announce } from './notify';
import type { Progress } from './progress';
import { jobEventOf } from '../server/webhooks/events';

const SYSTEM_PROMPT =
  'You are a senior software engineer. Answer with working, idiomatic code in one fenced code block, ' +
  'followed by a short explanation.';

/** What a finished job is counted under. */
interface EndedJob {
  projectId: string;
  model: string;
  tier: string;
  createdAt: Date;
  finishedAt: Date | null;
}

interface RecordDeps {
  prisma: PrismaClient;
  publisher: Publisher;
  catalog: CatalogLookup;
  metrics: JobMetrics;
  progress: Progress;
  /** Tells the job's author and its project's webhooks that it ended (activities/notify.ts). */
  announce: Announce;
}

/** Activities that read and write job records; all idempotent, since Temporal may retry them. */
export function createRecordActivities({ prisma, publisher, catalog, metrics, progress, announce }: RecordDeps) {
  /** Counts a job whose row this call moved to its final status; a retried write finds it there and counts nothing. */
  function countEnded(outcome: JobOutcome, job: EndedJob) {
    metrics.jobEnded({ outcome, tier: job.tier, model: job.model, createdAt: job.createdAt, finishedAt: job.finishedAt ?? job.createdAt });
  }

  /**
   * A job's row as it ended, with its team's tier, in one statement: a relation select of the
   * tier would read Team and Tier in two more, for every job.
   */
  function endedJob(jobId: string) {
    return prisma.$queryRaw<EndedJob[]>`
      SELECT j."projectId", j."model", tier."name" AS "tier", j."createdAt", j."finishedAt"
      FROM "Job" j JOIN "Team" team ON team."id" = j."teamId" JOIN "Tier" tier ON tier."id" = team."tierId"
      WHERE j."id" = ${jobId}::uuid`;
  }

  /** The one row endedJob read; a job gone (deleted with its team) fails the activity: there is nothing to record. */
  function one(rows: EndedJob[], jobId: string): EndedJob {
    const [job] = rows;
    if (!job) throw new Error(`job ${jobId} does not exist`);
    return job;
  }

  /** Records which run works on the job (a retry is a new run of the same workflow id) and reads it. */
  async function claimJob(jobId: string) {
    const runId = Context.current().info.workflowExecution?.runId;
    const job = await prisma.job
      .update({
        where: { id: jobId },
        data: { runId },
        select: {
          id: true,
          projectId: true,
          teamId: true,
          userId: true,
          priority: true,
          simple: true,
          model: true,
          requirements: true,
          chat: true,
          kind: true,
          review: true,
        },
      })
      .catch((error: unknown) => {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') {
          throw ApplicationFailure.nonRetryable(`job ${jobId} does not exist`, 'InvalidJob');
        }
        throw error;
      });
    // The team's tier by a filter, one statement: selected as a relation of the update, Prisma
    // reads the job, the team and the tier again in a transaction of their own (six statements).
    const tier = await prisma.tier.findFirstOrThrow({ where: { teams: { some: { id: job.teamId } } } });
    const entry = await catalog.find(job.model);
    if (!entry) throw ApplicationFailure.nonRetryable(`the model ${job.model} is no longer in the catalogue`, 'InvalidJob');
    return { job: { ...job, team: { tier } }, entry };
  }

  /** What the scheduler and the model call need of a claimed job: who, the tier, the model, its output cap. */
  function scheduled(job: Awaited<ReturnType<typeof claimJob>>['job'], entry: CatalogEntry) {
    return {
      jobId: job.id,
      projectId: job.projectId,
      teamId: job.teamId,
      userId: job.userId,
      tier: toTierPolicy(job.team.tier),
      priority: job.priority,
      batchable: job.kind === 'code_review' || (job.kind === 'code_generation' && job.simple),
      model: job.model,
      outputCap: outputCap(entry, job.team.tier.maxOutputTokens),
    };
  }

  /**
   * The row of a job whose answer is saved, and the row as it ended (for the metrics). Only the
   * first save completes it: a retried save changes nothing and counts nothing.
   */
  function markCompleted(input: SaveChatInput | SaveResultInput) {
    return [
      prisma.job.updateMany({
        where: { id: input.jobId, status: { not: 'completed' } },
        data: {
          status: 'completed',
          output: input.text,
          servedModel: input.servedModel,
          backendId: input.backendId,
          promptTokens: input.promptTokens,
          completionTokens: input.completionTokens,
          costUsd: input.costUsd,
          finishedAt: new Date(),
          error: null,
        },
      }),
      endedJob(input.jobId),
    ] as const;
  }

  return {
    async prepareJob(jobId: string): Promise<PreparedJob> {
      progress.stage(jobId, 'validating', 'prepareJob');
      const { job, entry } = await claimJob(jobId);
      if (!job.requirements.trim()) {
        throw ApplicationFailure.nonRetryable('the requirements are empty', 'InvalidJob');
      }
      return {
        ...scheduled(job, entry),
        requirements: job.requirements,
        ...assessRequirements(job.requirements),
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: job.requirements },
        ],
      };
    },

    async prepareChat(jobId: string): Promise<PreparedChat> {
      const { job, entry } = await claimJob(jobId);
      const chat = storedChat.safeParse(job.chat);
      if (!chat.success) throw ApplicationFailure.nonRetryable(`job ${jobId} has no chat request`, 'InvalidJob');
      const { messages, maxTokens, temperature, stop } = chat.data;
      const claimed = scheduled(job, entry);
      return {
        ...claimed,
        outputCap: maxTokens ? Math.min(maxTokens, claimed.outputCap) : claimed.outputCap,
        messages,
        sampling: { ...(temperature !== undefined ? { temperature } : {}), ...(stop ? { stop } : {}) },
      };
    },

    async prepareReview(jobId: string): Promise<PreparedReview> {
      const { job, entry } = await claimJob(jobId);
      const request = job.review as ReviewRequest | null;
      if (job.kind !== 'code_review' || !request) throw ApplicationFailure.nonRetryable(`job ${jobId} is not a code review`, 'InvalidJob');
      const items = await prisma.reviewItem.findMany({
        where: { jobId },
        select: { id: true, path: true, chunk: true, status: true },
        orderBy: [{ path: 'asc' }, { chunk: 'asc' }],
      });
      // A retried review keeps what it already found; failed items get another chance.
      await prisma.reviewItem.updateMany({ where: { jobId, status: 'failed' }, data: { status: 'pending', error: null } });
      return {
        ...scheduled(job, entry),
        depth: request.depth,
        total: items.length,
        pending: items.filter((item) => item.status !== 'done').map(({ id, path, chunk }) => ({ id, path, chunk })),
      };
    },

    /** A chat answer is the job's output: no result row, no code extracted. */
    async saveChat(input: SaveChatInput): Promise<void> {
      const [ended, rows] = await prisma.$transaction([...markCompleted(input)]);
      if (ended.count === 1) countEnded('completed', one(rows, input.jobId));
      const update = { jobId: input.jobId, projectId: input.projectId, status: 'completed' as const };
      publisher.emit(jobUpdateRooms(update), 'job:update', update);
    },

    async saveResult(input: SaveResultInput): Promise<string> {
      progress.stage(input.jobId, 'saving', 'saveResult');
      const { code, language } = extractCode(input.text);
      // One result per job however often this runs: the job id is unique on Result. An insert that
      // skips a duplicate and a read are two statements; Prisma's upsert here is three.
      const [, result, ended, rows] = await prisma.$transaction([
        prisma.result.createMany({
          data: [
            {
              jobId: input.jobId,
              code,
              language,
              reviewStatus: input.review.status,
              review: { notes: input.review.notes },
              truncated: input.truncated,
            },
          ],
          skipDuplicates: true,
        }),
        prisma.result.findUniqueOrThrow({ where: { jobId: input.jobId }, select: { id: true } }),
        ...markCompleted(input),
      ]);
      if (ended.count === 1) countEnded('completed', one(rows, input.jobId));
      return result.id;
    },

    async finishJob({ jobId, status, error }: FinishJobInput): Promise<void> {
      const [ended, rows] = await prisma.$transaction([
        prisma.job.updateMany({ where: { id: jobId, status: { not: status } }, data: { status, error, finishedAt: new Date() } }),
        endedJob(jobId),
      ]);
      const job = one(rows, jobId);
      if (ended.count === 1) countEnded(status, job);
      const update = { jobId, projectId: job.projectId, status };
      publisher.emit(jobUpdateRooms(update), 'job:update', update);
      await announce(jobId, jobEventOf(status));
    },

    async notifyUser({ jobId, projectId, status }: NotifyInput): Promise<void> {
      const update = { jobId, projectId, status };
      publisher.emit(jobUpdateRooms(update), 'job:update', update);
      await announce(jobId, jobEventOf(status));
    },
  };
}
