import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { jobWorkflowId } from '../../workflows/definitions';
import type { codeGenerationWorkflow } from '../../workflows';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { ForbiddenError, LimitError, NotFoundError, UnavailableError, ValidationError } from '../errors';
import type { SessionUser } from '../auth/session';
import type { TemporalProvider } from '../temporal/client';
import type { ProjectService } from './projects';

export const PRIORITIES = { low: -10, normal: 0, high: 10 } as const;
export type PriorityName = keyof typeof PRIORITIES;

export interface SubmitJobInput {
  projectId: string;
  requirements: string;
  model?: string | undefined;
  priority: PriorityName;
  clientKey: string;
}

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
} satisfies Prisma.JobSelect;

export const jobDetailSelect = {
  ...jobSummarySelect,
  output: true,
  error: true,
  backendId: true,
  promptTokens: true,
  costUsd: true,
  attempts: true,
  workflowId: true,
  runId: true,
  result: { select: { id: true, code: true, language: true, reviewStatus: true, review: true } },
} satisfies Prisma.JobSelect;

const ACTIVE = ['queued', 'running'] as const;

interface JobServiceDeps {
  prisma: PrismaClient;
  temporal: TemporalProvider;
  projects: ProjectService;
  defaultModel: string;
}

export function createJobService({ prisma, temporal, projects, defaultModel }: JobServiceDeps) {
  const visibleJob = (userId: string, jobId: string) =>
    ({ id: jobId, team: { memberships: { some: { userId } } } }) satisfies Prisma.JobWhereInput;

  const unavailable = () => new UnavailableError('The job service (Temporal) is unreachable; try again in a moment.');
  const connect = () =>
    temporal.get().catch(() => {
      throw unavailable();
    });

  async function startWorkflow(jobId: string): Promise<void> {
    const client = await connect();
    try {
      const handle = await client.workflow.start<typeof codeGenerationWorkflow>('codeGenerationWorkflow', {
        taskQueue: temporal.config.taskQueue,
        workflowId: jobWorkflowId(jobId),
        args: [{ jobId }],
      });
      await prisma.job.update({ where: { id: jobId }, data: { runId: handle.firstExecutionRunId } });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return;
      throw unavailable();
    }
  }

  return {
    /** Admits or refuses the job before anything durable exists, then starts its workflow. */
    async submit(user: SessionUser, input: SubmitJobInput) {
      const project = await projects.require(user.id, input.projectId);
      const existing = await prisma.job.findUnique({
        where: { userId_clientKey: { userId: user.id, clientKey: input.clientKey } },
        select: { id: true, status: true },
      });
      if (existing) {
        if (existing.status === 'queued') await startWorkflow(existing.id);
        return existing;
      }

      const tier = project.team.tier;
      const model = input.model ?? defaultModel;
      if (tier.allowedModels.length > 0 && !tier.allowedModels.includes(model)) {
        throw new ValidationError(
          `The ${tier.name} tier cannot use ${model}; allowed: ${tier.allowedModels.join(', ')}.`,
          'model',
        );
      }
      if (input.requirements.length > tier.maxPromptChars) {
        throw new ValidationError(
          `Requirements are ${input.requirements.length} characters; the ${tier.name} tier allows ${tier.maxPromptChars}.`,
          'requirements',
        );
      }
      const active = await prisma.job.count({ where: { userId: user.id, status: { in: [...ACTIVE] } } });
      if (active >= tier.maxQueuedPerUser) {
        throw new LimitError(
          `You have ${active} unfinished jobs; the ${tier.name} tier allows ${tier.maxQueuedPerUser}. Wait for one to finish.`,
        );
      }

      const id = randomUUID();
      const job = await prisma.job.create({
        data: {
          id,
          teamId: project.team.id,
          projectId: project.id,
          userId: user.id,
          clientKey: input.clientKey,
          requirements: input.requirements,
          model,
          priority: PRIORITIES[input.priority],
          workflowId: jobWorkflowId(id),
        },
        select: { id: true, status: true },
      });
      try {
        await startWorkflow(job.id);
      } catch (error) {
        // Nothing runs for this row; leaving it would count against the user's cap forever.
        await prisma.job.delete({ where: { id: job.id } });
        throw error;
      }
      return job;
    },

    async list(user: SessionUser, projectId: string, page: { cursor?: string | undefined; limit: number }) {
      await projects.require(user.id, projectId);
      const rows = await prisma.job.findMany({
        where: { projectId },
        select: jobSummarySelect,
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: page.limit + 1,
        ...(page.cursor ? { cursor: { id: page.cursor }, skip: 1 } : {}),
      });
      const items = rows.slice(0, page.limit);
      return { items, nextCursor: rows.length > page.limit ? items.at(-1)!.id : null };
    },

    async get(user: SessionUser, jobId: string) {
      const job = await prisma.job.findFirst({ where: visibleJob(user.id, jobId), select: jobDetailSelect });
      if (!job) throw new NotFoundError('job');
      return job;
    },

    async cancel(user: SessionUser, jobId: string) {
      const job = await prisma.job.findFirst({
        where: visibleJob(user.id, jobId),
        select: { id: true, status: true, userId: true, workflowId: true, team: { select: { memberships: { where: { userId: user.id }, select: { role: true } } } } },
      });
      if (!job) throw new NotFoundError('job');
      const isOwner = job.team.memberships[0]?.role === 'owner';
      if (job.userId !== user.id && !isOwner && !user.isAdmin) {
        throw new ForbiddenError('Only the job’s author or a team owner can cancel it.');
      }
      if (!(ACTIVE as readonly string[]).includes(job.status)) {
        throw new ValidationError(`The job is already ${job.status}.`);
      }
      const client = await connect();
      await client.workflow.getHandle(job.workflowId).cancel();
      return { id: job.id };
    },
  };
}

export type JobService = ReturnType<typeof createJobService>;
