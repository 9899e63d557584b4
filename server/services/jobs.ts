import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { jobWorkflowId, progressQuery, type ChatOutcome, type JobProgress, type JobWorkflowInput } from '../../workflows/definitions';
import { boostSignal, positionQuery, schedulerWorkflowId } from '../../workflows/scheduler/api';
import type { chatWorkflow, codeGenerationWorkflow, codeReviewWorkflow, collaborationWorkflow } from '../../workflows';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { JobStatus } from '../generated/prisma/enums';
import { ForbiddenError, NotFoundError, UnavailableError, ValidationError } from '../errors';
import type { SessionUser } from '../auth/session';
import type { TemporalProvider } from '../temporal/client';
import type { BackendNames } from './backend-names';
import { createAdmission } from './admission';
import { chargesOfJob } from './usage-ledger';
import type { ApiCaller } from './api-keys';
import { chatChars, chatTitle, type ChatRequest } from './chat-request';
import { ReviewInputError, reviewItems, reviewTitle, type ReviewDepth, type ReviewRequest, type ReviewSource } from './review-input';
import type { ProjectService } from './projects';

export const PRIORITIES = { low: -10, normal: 0, high: 10 } as const;
export type PriorityName = keyof typeof PRIORITIES;

export interface SubmitJobInput {
  projectId: string;
  requirements: string;
  model?: string | undefined;
  priority: PriorityName;
  simple?: boolean | undefined;
  clientKey: string;
  reviewTimeoutSeconds?: number | undefined;
}

export interface SubmitReviewInput {
  projectId: string;
  source: ReviewSource;
  depth: ReviewDepth;
  model?: string | undefined;
  priority: PriorityName;
  clientKey: string;
}

/** The workflow each kind of job runs. */
const WORKFLOW_OF_KIND = {
  code_generation: 'codeGenerationWorkflow',
  chat: 'chatWorkflow',
  code_review: 'codeReviewWorkflow',
  multi_agent: 'collaborationWorkflow',
} as const;
type WorkflowType = (typeof WORKFLOW_OF_KIND)[keyof typeof WORKFLOW_OF_KIND];

export const jobSummarySelect = {
  id: true,
  projectId: true,
  status: true,
  priority: true,
  model: true,
  requirements: true,
  completionTokens: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  user: { select: { id: true, name: true } },
  kind: true,
  apiKey: { select: { name: true } },
} satisfies Prisma.JobSelect;

export const jobDetailSelect = {
  ...jobSummarySelect,
  output: true,
  error: true,
  backendId: true,
  servedModel: true,
  promptTokens: true,
  costUsd: true,
  attempts: true,
  workflowId: true,
  runId: true,
  result: { select: { id: true, code: true, language: true, reviewStatus: true, review: true, truncated: true } },
} satisfies Prisma.JobSelect;

const ACTIVE = ['queued', 'running'] as const;

/** How long `live` waits for a workflow to answer a query before it answers without it. */
export const LIVE_QUERY_DEADLINE_MS = 2_000;

export interface QueuePosition {
  /** Jobs that start before this one if nothing new arrives (0 = next). */
  position: number;
  etaMs: number | null;
  /** Why it cannot start (no backend serves its model, all are down), when it cannot. */
  blocked: string | null;
}
const RETRYABLE = ['failed', 'dead_letter', 'cancelled'] as const;

interface JobServiceDeps {
  prisma: PrismaClient;
  temporal: TemporalProvider;
  projects: ProjectService;
  defaultModel: string;
  temporalUiUrl: string;
  backendNames: BackendNames;
  /** Admission's bound on waiting jobs (MAX_WAITING_JOBS); 0: none. */
  maxWaitingJobs: number;
}

export function createJobService({ prisma, temporal, projects, defaultModel, temporalUiUrl, backendNames, maxWaitingJobs }: JobServiceDeps) {
  const visibleJob = (userId: string, jobId: string) =>
    ({ id: jobId, team: { memberships: { some: { userId } } } }) satisfies Prisma.JobWhereInput;

  const audit = (user: SessionUser, job: { id: string; teamId: string }, action: string) =>
    prisma.auditLog.create({
      data: { actorId: user.id, teamId: job.teamId, action, targetType: 'job', targetId: job.id },
    });

  const unavailable = () => new UnavailableError('The job service (Temporal) is unreachable; try again in a moment.');
  const connect = () =>
    temporal.get().catch(() => {
      throw unavailable();
    });

  /**
   * Starts the job's workflow, which asks the scheduler for its slot from its first workflow task
   * (see `requestCapacity` in activities/scheduler.ts).
   */
  async function startWorkflow(input: JobWorkflowInput, type: WorkflowType = 'codeGenerationWorkflow'): Promise<void> {
    const client = await connect();
    try {
      // The workflow records its run id on the job itself (prepareJob), sparing a write here.
      await client.workflow.start<typeof codeGenerationWorkflow | typeof chatWorkflow | typeof codeReviewWorkflow | typeof collaborationWorkflow>(type, {
        taskQueue: temporal.config.taskQueue,
        workflowId: jobWorkflowId(input.jobId),
        args: [input],
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return;
      throw unavailable();
    }
  }

  /**
   * A workflow query that gives up after LIVE_QUERY_DEADLINE_MS: a query waits for a worker to run
   * the workflow's task, so a busy, evicted or dead worker would otherwise hold the caller for the
   * server's 10+ s. Null when Temporal did not answer in time.
   */
  async function boundedQuery<T>(query: (client: Client) => Promise<T>): Promise<T | null> {
    try {
      const client = await temporal.get();
      return await client.withDeadline(Date.now() + LIVE_QUERY_DEADLINE_MS, () => query(client));
    } catch {
      return null;
    }
  }

  /** The running workflow's own view of its stage; null while Temporal cannot answer. */
  const liveProgress = (workflowId: string): Promise<JobProgress | null> =>
    boundedQuery((client) => client.workflow.getHandle(workflowId).query(progressQuery));

  /** A waiting job's place in the scheduler's plan; null when it is not waiting or Temporal cannot answer. */
  const queuePosition = async (jobId: string): Promise<QueuePosition | null> => {
    const entry = await boundedQuery((client) => client.workflow.getHandle(schedulerWorkflowId(temporal.config.taskQueue)).query(positionQuery, jobId));
    return entry ? { position: entry.position, etaMs: entry.etaMs, blocked: entry.blocked } : null;
  };

  const admission = createAdmission({ prisma, maxWaitingJobs, startsIn: async (jobId) => (await queuePosition(jobId))?.etaMs ?? null });

  const findByKey = (db: Prisma.TransactionClient, userId: string, clientKey: string) =>
    db.job.findUnique({ where: { userId_clientKey: { userId, clientKey } }, select: { id: true, status: true } });

  /** The job row, if `user` may act on it: its author, an owner of its team, or an admin. */
  async function requireActionable(user: SessionUser, jobId: string, verb: string) {
    const job = await prisma.job.findFirst({
      where: user.isAdmin ? { id: jobId } : visibleJob(user.id, jobId),
      select: {
        id: true,
        kind: true,
        status: true,
        userId: true,
        teamId: true,
        workflowId: true,
        model: true,
        requirements: true,
        team: {
          select: {
            id: true,
            name: true,
            tier: true,
            memberships: { where: { userId: user.id }, select: { role: true } },
          },
        },
      },
    });
    if (!job) throw new NotFoundError('job');
    const isOwner = job.team.memberships[0]?.role === 'owner';
    if (job.userId !== user.id && !isOwner && !user.isAdmin) {
      throw new ForbiddenError(`Only the job’s author, a team owner or an admin can ${verb} it.`);
    }
    return job;
  }

  return {
    /** For the collaboration service (server/services/collaborations.ts): the same admission and start. */
    admission,
    startWorkflow,
    requireActionable,

    /** Admits or refuses the job before anything durable exists, then starts its workflow. */
    async submit(user: SessionUser, input: SubmitJobInput) {
      const project = await projects.require(user.id, input.projectId);
      const model = input.model ?? defaultModel;
      const { job, created } = await admission.admit(
        { userId: user.id, team: project.team, model, requirements: input.requirements },
        {
          existing: (tx) => findByKey(tx, user.id, input.clientKey),
          create: (tx, admitted) => {
            const id = randomUUID();
            return tx.job.create({
              data: {
                id,
                teamId: project.team.id,
                projectId: project.id,
                userId: user.id,
                clientKey: input.clientKey,
                requirements: input.requirements,
                model: admitted.model,
                priority: PRIORITIES[input.priority],
                simple: input.simple ?? false,
                workflowId: jobWorkflowId(id),
              },
              select: { id: true, status: true },
            });
          },
        },
      );
      if (!created) return job;
      try {
        await startWorkflow({ jobId: job.id, reviewTimeoutSeconds: input.reviewTimeoutSeconds });
      } catch (error) {
        // Nothing runs for this row; leaving it would count against the user's cap forever.
        await prisma.job.delete({ where: { id: job.id } });
        throw error;
      }
      return job;
    },

    /**
     * A code review: its items (files, chunks of long files, a diff's files) are stored with the
     * job, in one transaction after admission, so the workflow only reads them. The prompt-size
     * rule counts the largest item, which is what one model call reads.
     */
    async submitReview(user: SessionUser, input: SubmitReviewInput) {
      const project = await projects.require(user.id, input.projectId);
      let items;
      try {
        items = reviewItems(input.source);
      } catch (error) {
        if (error instanceof ReviewInputError) throw new ValidationError(error.message);
        throw error;
      }
      if (items.length === 0) throw new ValidationError('There is nothing to review: every file is empty.');
      const model = input.model ?? defaultModel;
      const request: ReviewRequest = { source: input.source.kind, depth: input.depth };
      const { job, created } = await admission.admit(
        {
          userId: user.id,
          team: project.team,
          model,
          requirements: reviewTitle(input.source, items),
          promptChars: Math.max(...items.map((item) => item.content.length)),
        },
        {
          existing: (tx) => findByKey(tx, user.id, input.clientKey),
          create: async (tx, admitted) => {
            const id = randomUUID();
            const row = await tx.job.create({
              data: {
                id,
                kind: 'code_review',
                teamId: project.team.id,
                projectId: project.id,
                userId: user.id,
                clientKey: input.clientKey,
                requirements: reviewTitle(input.source, items),
                review: request as unknown as Prisma.InputJsonObject,
                model: admitted.model,
                priority: PRIORITIES[input.priority],
                workflowId: jobWorkflowId(id),
              },
              select: { id: true, status: true },
            });
            await tx.reviewItem.createMany({ data: items.map((item) => ({ ...item, jobId: id })) });
            return row;
          },
        },
      );
      if (!created) return job;
      try {
        await startWorkflow({ jobId: job.id }, 'codeReviewWorkflow');
      } catch (error) {
        await prisma.job.delete({ where: { id: job.id } });
        throw error;
      }
      return job;
    },

    /**
     * An API request: admitted by the same rules as a submit from the web (the conversation counts
     * as the requirements), filed in the key's project, and run by the chat workflow. `jobId` is
     * the caller's, so it can listen for the job's tokens before the job exists.
     */
    async submitChat(caller: ApiCaller, jobId: string, model: string, chat: ChatRequest): Promise<{ id: string }> {
      const requirements = chatTitle(chat);
      const { job } = await admission.admit(
        { userId: caller.user.id, team: caller.team, model, requirements, promptChars: chatChars(chat) },
        {
          create: (tx, admitted) =>
            tx.job.create({
              data: {
                id: jobId,
                kind: 'chat',
                teamId: caller.team.id,
                projectId: caller.key.projectId,
                userId: caller.user.id,
                apiKeyId: caller.key.id,
                clientKey: jobId,
                requirements,
                chat: chat as unknown as Prisma.InputJsonObject,
                model: admitted.model,
                priority: PRIORITIES.normal,
                workflowId: jobWorkflowId(jobId),
              },
              select: { id: true },
            }),
        },
      );
      try {
        await startWorkflow({ jobId }, 'chatWorkflow');
      } catch (error) {
        await prisma.job.delete({ where: { id: jobId } });
        throw error;
      }
      return job;
    },

    /** A chat job's answer, once its workflow ends; rejects as the job failed or was cancelled. */
    async chatResult(jobId: string): Promise<ChatOutcome> {
      const client = await connect();
      return client.workflow.getHandle<typeof chatWorkflow>(jobWorkflowId(jobId)).result();
    },

    /** Cancels a chat job whose client went away: no one is left to authorise, the connection was the request. */
    async abandon(jobId: string): Promise<void> {
      const client = await connect();
      await client.workflow.getHandle(jobWorkflowId(jobId)).cancel();
    },

    /** `status`: only jobs in that state (the project's history of results is its completed jobs). */
    async list(
      user: SessionUser,
      projectId: string,
      page: { cursor?: string | undefined; limit: number; status?: JobStatus | undefined },
    ) {
      await projects.require(user.id, projectId);
      const rows = await prisma.job.findMany({
        // A collaboration's steps show under it, not beside it.
        where: { projectId, parentId: null, ...(page.status ? { status: page.status } : {}) },
        select: jobSummarySelect,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.limit + 1,
        ...(page.cursor ? { cursor: { id: page.cursor }, skip: 1 } : {}),
      });
      const items = rows.slice(0, page.limit);
      return { items, nextCursor: rows.length > page.limit ? items.at(-1)!.id : null };
    },

    /**
     * The job as the database has it, and nothing else: a page paints from this at once. What
     * only the workflow knows arrives separately (`live`, and the rooms' pushed events).
     */
    async get(user: SessionUser, jobId: string) {
      const job = await prisma.job.findFirst({ where: visibleJob(user.id, jobId), select: jobDetailSelect });
      if (!job) throw new NotFoundError('job');
      const { namespace } = temporal.config;
      const run = job.runId ? `/${job.runId}` : '';
      // Admins see which backend (its address) and the error as it was; others the backend's name.
      const shown = user.isAdmin ? job : await backendNames.forUser(job);
      const charged = await chargesOfJob(prisma, job.id);
      return { ...shown, charged, temporalUrl: `${temporalUiUrl}/namespaces/${namespace}/workflows/${job.workflowId}${run}/history` };
    },

    /**
     * What only the workflows know of an active job — its stage, its place in the queue — each
     * asked with a short deadline, null when not answered in time (the page keeps what it shows).
     */
    async live(user: SessionUser, jobId: string): Promise<{ progress: JobProgress | null; queue: QueuePosition | null }> {
      const job = await prisma.job.findFirst({ where: visibleJob(user.id, jobId), select: { id: true, status: true, workflowId: true } });
      if (!job) throw new NotFoundError('job');
      const [progress, queue] = await Promise.all([
        (ACTIVE as readonly string[]).includes(job.status) ? liveProgress(job.workflowId) : null,
        job.status === 'queued' ? queuePosition(job.id) : null,
      ]);
      return { progress, queue };
    },

    async cancel(user: SessionUser, jobId: string) {
      const job = await requireActionable(user, jobId, 'cancel');
      if (!(ACTIVE as readonly string[]).includes(job.status)) {
        throw new ValidationError(`The job is already ${job.status}.`);
      }
      const client = await connect();
      await client.workflow.getHandle(job.workflowId).cancel();
      await audit(user, job, 'job.cancel');
      return { id: job.id };
    },

    /** Runs a finished job again as a new run of the same workflow id: Temporal keeps both histories. */
    async retry(user: SessionUser, jobId: string) {
      const job = await requireActionable(user, jobId, 'retry');
      // Its client is gone; whoever wants the answer sends the request again.
      if (job.kind === 'chat') throw new ValidationError('An API request cannot be retried; send it again.');
      if (job.kind === 'multi_agent') throw new ValidationError('A collaboration cannot be retried; submit it again.');
      if (!(RETRYABLE as readonly string[]).includes(job.status)) {
        throw new ValidationError(`Only failed, dead-lettered or cancelled jobs can be retried; this one is ${job.status}.`);
      }
      // Claiming the row first makes concurrent retries start one run, not two.
      const claim = async (db: Prisma.TransactionClient) =>
        (
          await db.job.updateMany({
            where: { id: job.id, status: job.status },
            // The output's token count goes with it: a run resumes from both (activities/generate.ts).
            data: { status: 'queued', error: null, output: '', completionTokens: 0, finishedAt: null },
          })
        ).count > 0;
      // A retried job queues again, so its author's queue cap and team budget apply as to a new
      // one; an admin's retry (dead letters) overrides them and is audited like any other.
      const claimed = user.isAdmin
        ? await claim(prisma)
        : (
            await admission.admit(
              { userId: job.userId, team: job.team, model: job.model, requirements: job.requirements, jobId: job.id },
              { create: claim },
            )
          ).job;
      if (!claimed) return { id: job.id };
      try {
        await startWorkflow({ jobId: job.id }, WORKFLOW_OF_KIND[job.kind as keyof typeof WORKFLOW_OF_KIND]);
      } catch (error) {
        await prisma.job.update({ where: { id: job.id }, data: { status: job.status } });
        throw error;
      }
      await audit(user, job, 'job.retry');
      return { id: job.id };
    },

    /** Raises (or lowers) a waiting job's priority in the scheduler: for admins. */
    async boost(user: SessionUser, jobId: string, boost: number) {
      const job = await prisma.job.findUnique({ where: { id: jobId }, select: { id: true, status: true, teamId: true } });
      if (!job) throw new NotFoundError('job');
      if (job.status !== 'queued') throw new ValidationError(`Only a waiting job can be boosted; this one is ${job.status}.`);
      const client = await connect();
      await client.workflow.getHandle(schedulerWorkflowId(temporal.config.taskQueue)).signal(boostSignal, { jobId, boost });
      await audit(user, job, 'job.boost');
      return { id: job.id, boost };
    },

    /** Jobs that exhausted their retries, across all teams: for admins. */
    deadLetters(page: { cursor?: string | undefined; limit: number }) {
      return prisma.job.findMany({
        where: { status: 'dead_letter' },
        select: { ...jobSummarySelect, error: true, team: { select: { id: true, name: true } } },
        orderBy: [{ finishedAt: 'desc' }, { id: 'desc' }],
        take: page.limit,
        ...(page.cursor ? { cursor: { id: page.cursor }, skip: 1 } : {}),
      });
    },
  };
}

export type JobService = ReturnType<typeof createJobService>;
