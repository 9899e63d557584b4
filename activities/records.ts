import { ApplicationFailure, Context } from '@temporalio/activity';
import { Prisma, type PrismaClient } from '../server/generated/prisma/client';
import { jobUpdateRooms, type Publisher } from '../server/realtime/events';
import type { FinishJobInput, NotifyInput, PreparedChat, PreparedJob, SaveChatInput, SaveResultInput } from './types';
import { storedChat } from '../server/services/chat-request';
import { toTierPolicy } from '../server/services/tier-policy';
import { outputCap } from '../server/services/catalog-mapping';
import type { CatalogLookup } from '../server/services/catalog-lookup';
import type { JobMetrics, JobOutcome } from '../server/metrics/jobs';
import { assessRequirements } from './complexity';
import { extractCode } from './extract-code';

const SYSTEM_PROMPT =
  'You are a senior software engineer. Answer with working, idiomatic code in one fenced code block, ' +
  'followed by a short explanation.';

/** What a finished job is counted under. */
const endedJobSelect = { model: true, createdAt: true, finishedAt: true, team: { select: { tier: { select: { name: true } } } } } satisfies Prisma.JobSelect;

interface RecordDeps {
  prisma: PrismaClient;
  publisher: Publisher;
  catalog: CatalogLookup;
  metrics: JobMetrics;
}

/** Activities that read and write job records; all idempotent, since Temporal may retry them. */
export function createRecordActivities({ prisma, publisher, catalog, metrics }: RecordDeps) {
  /** Counts a job whose row this call moved to its final status; a retried write finds it there and counts nothing. */
  function countEnded(outcome: JobOutcome, job: Prisma.JobGetPayload<{ select: typeof endedJobSelect }>) {
    metrics.jobEnded({ outcome, tier: job.team.tier.name, model: job.model, createdAt: job.createdAt, finishedAt: job.finishedAt ?? job.createdAt });
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
          model: true,
          requirements: true,
          chat: true,
          team: { select: { tier: true } },
        },
      })
      .catch((error: unknown) => {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') {
          throw ApplicationFailure.nonRetryable(`job ${jobId} does not exist`, 'InvalidJob');
        }
        throw error;
      });
    const entry = await catalog.find(job.model);
    if (!entry) throw ApplicationFailure.nonRetryable(`the model ${job.model} is no longer in the catalogue`, 'InvalidJob');
    return { job, entry };
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
      prisma.job.findUniqueOrThrow({ where: { id: input.jobId }, select: endedJobSelect }),
    ] as const;
  }

  return {
    async prepareJob(jobId: string): Promise<PreparedJob> {
      const { job, entry } = await claimJob(jobId);
      if (!job.requirements.trim()) {
        throw ApplicationFailure.nonRetryable('the requirements are empty', 'InvalidJob');
      }
      return {
        jobId: job.id,
        projectId: job.projectId,
        teamId: job.teamId,
        userId: job.userId,
        tier: toTierPolicy(job.team.tier),
        priority: job.priority,
        model: job.model,
        outputCap: outputCap(entry, job.team.tier.maxOutputTokens),
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
      const cap = outputCap(entry, job.team.tier.maxOutputTokens);
      return {
        jobId: job.id,
        projectId: job.projectId,
        teamId: job.teamId,
        userId: job.userId,
        tier: toTierPolicy(job.team.tier),
        priority: job.priority,
        model: job.model,
        outputCap: maxTokens ? Math.min(maxTokens, cap) : cap,
        messages,
        sampling: { ...(temperature !== undefined ? { temperature } : {}), ...(stop ? { stop } : {}) },
      };
    },

    /** A chat answer is the job's output: no result row, no code extracted. */
    async saveChat(input: SaveChatInput): Promise<void> {
      const [ended, job] = await prisma.$transaction([...markCompleted(input)]);
      if (ended.count === 1) countEnded('completed', job);
      const update = { jobId: input.jobId, projectId: input.projectId, status: 'completed' as const };
      publisher.emit(jobUpdateRooms(update), 'job:update', update);
    },

    async saveResult(input: SaveResultInput): Promise<string> {
      const { code, language } = extractCode(input.text);
      // One result per job however often this runs: the job id is unique on Result.
      const [result, ended, job] = await prisma.$transaction([
        prisma.result.upsert({
          where: { jobId: input.jobId },
          create: {
            jobId: input.jobId,
            code,
            language,
            reviewStatus: input.review.status,
            review: { notes: input.review.notes },
            truncated: input.truncated,
          },
          update: {},
          select: { id: true },
        }),
        ...markCompleted(input),
      ]);
      if (ended.count === 1) countEnded('completed', job);
      return result.id;
    },

    async finishJob({ jobId, status, error }: FinishJobInput): Promise<void> {
      const [ended, job] = await prisma.$transaction([
        prisma.job.updateMany({ where: { id: jobId, status: { not: status } }, data: { status, error, finishedAt: new Date() } }),
        prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { projectId: true, ...endedJobSelect } }),
      ]);
      if (ended.count === 1) countEnded(status, job);
      const update = { jobId, projectId: job.projectId, status };
      publisher.emit(jobUpdateRooms(update), 'job:update', update);
    },

    async notifyUser({ jobId, projectId, status }: NotifyInput): Promise<void> {
      const update = { jobId, projectId, status };
      publisher.emit(jobUpdateRooms(update), 'job:update', update);
    },
  };
}
