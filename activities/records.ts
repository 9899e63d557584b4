import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { Prisma, type Job, type PrismaClient, type Tier } from '../server/generated/prisma/client';
import { jobUpdateRooms, type Publisher } from '../server/realtime/events';
import type { FinishJobInput, NotifyInput, PreparedChat, PreparedJob, PreparedReview, SaveChatInput, SaveResultInput } from './types';
import type { ReviewRequest } from '../server/services/review-input';
import { storedChat } from '../server/services/chat-request';
import { toTierPolicy, type TierPolicyRow } from '../server/services/tier-policy';
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

type Nullable<T> = { [K in keyof T]: T[K] | null };

/** What a job's workflow needs of its row, and of its team's tier: the scheduler's policy and the output cap. */
type ClaimedJob = Pick<Job, 'id' | 'projectId' | 'teamId' | 'userId' | 'priority' | 'simple' | 'model' | 'requirements' | 'chat' | 'kind' | 'review'> & {
  team: { tier: TierPolicyRow & Pick<Tier, 'maxOutputTokens'> };
};

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
   * The row of `ended` (a CTE of the statement: the job's UPDATE … RETURNING "projectId", "model",
   * "teamId", "createdAt", "finishedAt") with its team's tier, as a query to select from: a relation
   * select of the tier would read Team and Tier in two more statements, for every job.
   */
  const endedWithTier = Prisma.sql`
    SELECT e."projectId"::text AS "projectId", e."model", tier."name" AS "tier", e."createdAt", e."finishedAt"
    FROM ended e JOIN "Team" team ON team."id" = e."teamId" JOIN "Tier" tier ON tier."id" = team."tierId"`;
  const endedColumns = Prisma.sql`"projectId", "model", "teamId", "createdAt", "finishedAt"`;

  /** The row endedWithTier read, or null when the update found the job already ended so (a retried write). */
  function endedRow(row: Nullable<EndedJob>): EndedJob | null {
    const { projectId, model, tier, createdAt, finishedAt } = row;
    return projectId === null || model === null || tier === null || createdAt === null ? null : { projectId, model, tier, createdAt, finishedAt };
  }

  /**
   * Records which run works on the job (a retry is a new run of the same workflow id) and reads it
   * with its team's tier, in one statement: Prisma's update with the tier as a relation reads the
   * job, the team and the tier again in a transaction of their own (six statements), and an update
   * and a read of the tier were two.
   */
  async function claimJob(jobId: string): Promise<{ job: ClaimedJob; entry: CatalogEntry }> {
    const runId = Context.current().info.workflowExecution?.runId ?? null;
    const [job] = await prisma.$queryRaw<ClaimedJob[]>`
      WITH job AS (
        UPDATE "Job" SET "runId" = COALESCE(${runId}::text, "runId"), "updatedAt" = ${new Date()} WHERE "id" = ${jobId}::uuid
        RETURNING "id", "projectId", "teamId", "userId", "priority", "simple", "model", "requirements", "chat", "kind", "review"
      )
      SELECT job."id"::text AS "id", job."projectId"::text AS "projectId", job."teamId"::text AS "teamId", job."userId"::text AS "userId",
        job."priority", job."simple", job."model", job."requirements", job."chat", job."kind"::text AS "kind", job."review",
        jsonb_build_object('tier', jsonb_build_object(
          'name', tier."name", 'weight', tier."weight", 'basePriority', tier."basePriority",
          'maxRunningPerUser', tier."maxRunningPerUser", 'maxQueuedPerUser', tier."maxQueuedPerUser",
          'allowedModels', tier."allowedModels", 'poolPreference', tier."poolPreference",
          'cloudFallback', tier."cloudFallback", 'cloudFallbackAfterSec', tier."cloudFallbackAfterSec", 'minShare', tier."minShare",
          'batchEnabled', tier."batchEnabled", 'maxBatchSize', tier."maxBatchSize", 'batchTimeoutSec', tier."batchTimeoutSec",
          'maxOutputTokens', tier."maxOutputTokens")) AS "team"
      FROM job JOIN "Team" team ON team."id" = job."teamId" JOIN "Tier" tier ON tier."id" = team."tierId"`;
    if (!job) throw ApplicationFailure.nonRetryable(`job ${jobId} does not exist`, 'InvalidJob');
    const entry = await catalog.find(job.model);
    if (!entry) throw ApplicationFailure.nonRetryable(`the model ${job.model} is no longer in the catalogue`, 'InvalidJob');
    return { job, entry };
  }

  /** What the scheduler and the model call need of a claimed job: who, the tier, the model, its output cap. */
  function scheduled(job: ClaimedJob, entry: CatalogEntry) {
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
   * The update of a job whose answer is saved, as a CTE `ended` (see endedWithTier). Only the
   * first save completes it: a retried save changes nothing and counts nothing.
   */
  function completed(input: SaveChatInput | SaveResultInput) {
    const at = new Date();
    return Prisma.sql`ended AS (
      UPDATE "Job" SET
        "status" = 'completed', "output" = ${input.text}, "servedModel" = ${input.servedModel}, "backendId" = ${input.backendId},
        "promptTokens" = ${input.promptTokens}, "completionTokens" = ${input.completionTokens}, "costUsd" = ${input.costUsd},
        "finishedAt" = ${at}, "error" = NULL, "updatedAt" = ${at}
      WHERE "id" = ${input.jobId}::uuid AND "status" <> 'completed'
      RETURNING ${endedColumns}
    )`;
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
      const [ended] = await prisma.$queryRaw<EndedJob[]>`WITH ${completed(input)} ${endedWithTier}`;
      if (ended) countEnded('completed', ended);
      const update = { jobId: input.jobId, projectId: input.projectId, status: 'completed' as const };
      publisher.emit(jobUpdateRooms(update), 'job:update', update);
    },

    async saveResult(input: SaveResultInput): Promise<string> {
      progress.stage(input.jobId, 'saving', 'saveResult');
      const { code, language } = extractCode(input.text);
      // One result per job however often this runs: the job id is unique on Result. The insert, the
      // job's update and the reads are one statement (a Prisma transaction of them was six). A save
      // that met a row its statement cannot see (a concurrent save's, committed since it began)
      // reads that row's id on its own.
      const review = JSON.stringify({ notes: input.review.notes });
      const [row] = await prisma.$queryRaw<(Nullable<EndedJob> & { resultId: string | null })[]>`
        WITH saved AS (
          INSERT INTO "Result" ("id", "jobId", "code", "language", "reviewStatus", "review", "truncated")
          VALUES (${randomUUID()}::uuid, ${input.jobId}::uuid, ${code}, ${language}, ${input.review.status}::"ReviewStatus", ${review}::jsonb, ${input.truncated})
          ON CONFLICT ("jobId") DO NOTHING
          RETURNING "id"
        ),
        ${completed(input)},
        ended_row AS (${endedWithTier})
        SELECT COALESCE((SELECT "id" FROM saved), (SELECT "id" FROM "Result" WHERE "jobId" = ${input.jobId}::uuid))::text AS "resultId", ended_row.*
        FROM (VALUES (1)) AS one_row LEFT JOIN ended_row ON true`;
      const ended = row && endedRow(row);
      if (ended) countEnded('completed', ended);
      return row?.resultId ?? (await prisma.result.findUniqueOrThrow({ where: { jobId: input.jobId }, select: { id: true } })).id;
    },

    async finishJob({ jobId, status, error }: FinishJobInput): Promise<void> {
      const at = new Date();
      // The row as it was read beside its update: the project, whether or not this call ended it.
      const [row] = await prisma.$queryRaw<(Nullable<EndedJob> & { jobProjectId: string })[]>`
        WITH ended AS (
          UPDATE "Job" SET "status" = ${status}::"JobStatus", "error" = ${error}, "finishedAt" = ${at}, "updatedAt" = ${at}
          WHERE "id" = ${jobId}::uuid AND "status" <> ${status}::"JobStatus"
          RETURNING ${endedColumns}
        ),
        ended_row AS (${endedWithTier})
        SELECT j."projectId"::text AS "jobProjectId", ended_row.* FROM "Job" j LEFT JOIN ended_row ON true WHERE j."id" = ${jobId}::uuid`;
      // A job gone (deleted with its team) fails the activity: there is nothing to record.
      if (!row) throw new Error(`job ${jobId} does not exist`);
      const ended = endedRow(row);
      if (ended) countEnded(status, ended);
      const update = { jobId, projectId: row.jobProjectId, status };
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
