import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PrismaClient } from '../server/generated/prisma/client';
import { jobWorkflowId } from '../workflows/definitions';
import { jobUpdateRooms, type Publisher } from '../server/realtime/events';
import { toTierPolicy } from '../server/services/tier-policy';
import { outputCap } from '../server/services/catalog-mapping';
import type { CatalogLookup } from '../server/services/catalog-lookup';
import { templateInput } from '../server/services/collaboration-template';
import { fallbackPart, stepJobId } from '../server/services/step-ids';
import { jobEventOf } from '../server/webhooks/events';
import type { ApprovalDecision, ApprovalState, CollaborationPlan, PlannedStep, StepWorkflowInput } from '../workflows/collaboration/api';
import type { Announce } from './notify';
import type { PreparedChat } from './types';

interface CollaborationDeps {
  prisma: PrismaClient;
  publisher: Publisher;
  catalog: CatalogLookup;
  /** Tells people and the project's webhooks of the wait for approval and of the end (activities/notify.ts). */
  announce: Announce;
}

type FinalStatus = 'completed' | 'failed' | 'cancelled' | 'dead_letter';

/**
 * Activities of a collaboration job (workflows/collaboration/): its plan, each step's prompt,
 * the approval's record, and the collaboration's end with its steps' tokens and cost summed.
 * All idempotent: Temporal may run any of them again.
 */
export function createCollaborationActivities({ prisma, publisher, catalog, announce }: CollaborationDeps) {
  const publish = (jobId: string, projectId: string, status: 'running' | FinalStatus) => {
    const update = { jobId, projectId, status };
    publisher.emit(jobUpdateRooms(update), 'job:update', update);
  };

  async function readCollaboration(jobId: string) {
    const job = await prisma.job.findUnique({
      where: { id: jobId },
      select: { id: true, projectId: true, userId: true, teamId: true, requirements: true, collaboration: true, children: { select: { id: true, part: true, role: true } } },
    });
    if (!job) throw ApplicationFailure.nonRetryable(`job ${jobId} does not exist`, 'InvalidJob');
    const template = templateInput.safeParse(job.collaboration);
    if (!template.success) throw ApplicationFailure.nonRetryable(`job ${jobId} is not a collaboration`, 'InvalidJob');
    return { job, template: template.data };
  }

  return {
    async prepareCollaboration(jobId: string): Promise<CollaborationPlan> {
      const runId = Context.current().info.workflowExecution?.runId;
      const { job, template } = await readCollaboration(jobId);
      await prisma.job.updateMany({ where: { id: jobId }, data: { runId, status: 'running' } });
      await prisma.job.updateMany({ where: { id: jobId, startedAt: null }, data: { startedAt: new Date() } });
      publish(jobId, job.projectId, 'running');
      const step = (part: string): PlannedStep => {
        const child = job.children.find((c) => c.part === part);
        if (!child) throw ApplicationFailure.nonRetryable(`collaboration ${jobId} has no step ${part}`, 'InvalidJob');
        return { jobId: child.id, part, role: child.role ?? part };
      };
      return {
        jobId,
        projectId: job.projectId,
        agents: template.agents.map((_, i) => step(`agent-${i}`)),
        integration: step('integration'),
        review: step('review'),
        failurePolicy: template.failurePolicy,
        fallbackModel: template.fallbackModel ?? null,
        approval: template.approval ? { timeoutSeconds: template.approvalTimeoutSeconds, onTimeout: template.approvalTimeoutAction } : null,
      };
    },

    /** A step as the generation needs it: its template's system prompt, and the task with what it works from. */
    async prepareStep({ jobId, context, missing }: StepWorkflowInput): Promise<PreparedChat> {
      const runId = Context.current().info.workflowExecution?.runId;
      const step = await prisma.job.update({
        where: { id: jobId },
        data: { runId },
        select: { id: true, projectId: true, teamId: true, userId: true, priority: true, model: true, part: true, parentId: true, team: { select: { tier: true } } },
      });
      if (!step.parentId || !step.part) throw ApplicationFailure.nonRetryable(`job ${jobId} is not a collaboration step`, 'InvalidJob');
      const { job: parent, template } = await readCollaboration(step.parentId);
      const part = step.part.replace(/:fallback$/, '');
      const settings = part === 'integration' ? template.integrator : part === 'review' ? template.reviewer : template.agents[Number(part.slice('agent-'.length))];
      if (!settings) throw ApplicationFailure.nonRetryable(`the template has no step ${step.part}`, 'InvalidJob');
      const entry = await catalog.find(step.model);
      if (!entry) throw ApplicationFailure.nonRetryable(`the model ${step.model} is no longer in the catalogue`, 'InvalidJob');
      const sections = context.map(({ role, text }) => `## ${role}\n\n${text}`);
      const gaps = missing.length > 0 ? [`## missing\n\nThese agents produced nothing: ${missing.join(', ')}. Work with what exists and say what is missing.`] : [];
      return {
        jobId: step.id,
        projectId: step.projectId,
        teamId: step.teamId,
        userId: step.userId,
        tier: toTierPolicy(step.team.tier),
        priority: step.priority,
        model: step.model,
        outputCap: outputCap(entry, step.team.tier.maxOutputTokens),
        messages: [
          { role: 'system', content: settings.systemPrompt },
          { role: 'user', content: [`# Task\n\n${parent.requirements}`, ...sections, ...gaps].join('\n\n') },
        ],
        sampling: {},
      };
    },

    /**
     * The failed step's run on the fallback model: a new step job beside it (the failed one keeps
     * its error and partial text), the same everything else.
     */
    async retryStepOn({ step, model }: { step: PlannedStep; model: string }): Promise<PlannedStep> {
      const failed = await prisma.job.findUniqueOrThrow({ where: { id: step.jobId } });
      if (!failed.parentId || !failed.part) throw ApplicationFailure.nonRetryable(`job ${step.jobId} is not a collaboration step`, 'InvalidJob');
      const part = fallbackPart(failed.part);
      const id = stepJobId(failed.parentId, part);
      await prisma.job.upsert({
        where: { id },
        create: {
          id,
          kind: 'multi_agent',
          teamId: failed.teamId,
          projectId: failed.projectId,
          userId: failed.userId,
          parentId: failed.parentId,
          part,
          role: failed.role,
          clientKey: `${failed.parentId}:${part}`,
          requirements: failed.requirements,
          model,
          priority: failed.priority,
          workflowId: jobWorkflowId(id),
        },
        update: {},
      });
      return { jobId: id, part, role: step.role };
    },

    /** Opens the wait for approval: records who may decide and until when, for the whole team to see. */
    async awaitApproval({ jobId, timeoutSeconds, onTimeout }: { jobId: string; timeoutSeconds: number; onTimeout: 'proceed' | 'cancel' }): Promise<string[]> {
      const { job } = await readCollaboration(jobId);
      const existing = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { approval: true } });
      const owners = await prisma.membership.findMany({ where: { teamId: job.teamId, role: 'owner' }, select: { user: { select: { id: true, name: true } } } });
      const author = await prisma.user.findUniqueOrThrow({ where: { id: job.userId }, select: { id: true, name: true } });
      const approvers = [author, ...owners.map((o) => o.user).filter((u) => u.id !== author.id)];
      // A retried activity keeps the wait's first start and deadline.
      const previous = existing.approval as ApprovalState | null;
      const since = previous?.state === 'waiting' ? previous.since : new Date().toISOString();
      const state: ApprovalState = { state: 'waiting', approvers, since, deadline: Date.parse(since) + timeoutSeconds * 1000, onTimeout };
      await prisma.job.update({ where: { id: jobId }, data: { approval: { ...state } } });
      publish(jobId, job.projectId, 'running');
      await announce(jobId, 'job.awaiting_approval', approvers.map((a) => a.id));
      return approvers.map((a) => a.id);
    },

    /** Records how the wait ended; an approval's edits replace those agents' outputs on their rows. */
    async recordApproval({ jobId, outcome, decision }: { jobId: string; outcome: 'approved' | 'rejected' | 'timed_out'; decision: ApprovalDecision | null }): Promise<void> {
      const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { projectId: true, teamId: true, approval: true } });
      const waiting = job.approval as ApprovalState | null;
      if (!waiting) throw ApplicationFailure.nonRetryable(`collaboration ${jobId} never waited for approval`, 'InvalidJob');
      const decidedBy = decision ? await prisma.user.findUnique({ where: { id: decision.userId }, select: { id: true, name: true } }) : null;
      const edits = outcome === 'approved' ? (decision?.edits ?? []) : [];
      const state: ApprovalState = { ...waiting, state: outcome, ...(decidedBy ? { decidedBy } : {}), editedParts: edits.map((e) => e.part) };
      await prisma.$transaction([
        prisma.job.update({ where: { id: jobId }, data: { approval: { ...state } } }),
        ...edits.map((edit) => prisma.job.updateMany({ where: { parentId: jobId, part: edit.part }, data: { output: edit.text } })),
        ...(decidedBy
          ? [prisma.auditLog.create({ data: { actorId: decidedBy.id, teamId: job.teamId, action: `job.${outcome === 'approved' ? 'approve' : 'reject'}`, targetType: 'job', targetId: jobId } })]
          : []),
      ]);
      publish(jobId, job.projectId, 'running');
    },

    /**
     * Ends the collaboration's row with its steps' tokens and cost summed on it, and tells of the
     * end as any job's. Steps that never started (the integration after a rejection) end
     * cancelled with it. A cancellation nobody chose (the approval timed out) or that someone
     * else chose (an owner rejected it) is news to its author.
     */
    async closeCollaboration({ jobId, status, output, error }: { jobId: string; status: FinalStatus; output: string; error: string | null }): Promise<void> {
      const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { projectId: true, userId: true, approval: true } });
      const sums = await prisma.job.aggregate({ where: { parentId: jobId }, _sum: { promptTokens: true, completionTokens: true, costUsd: true } });
      const finishedAt = new Date();
      await prisma.$transaction([
        prisma.job.updateMany({
          where: { parentId: jobId, status: 'queued', startedAt: null },
          data: { status: 'cancelled', finishedAt },
        }),
        prisma.job.updateMany({
          where: { id: jobId },
          data: {
            status,
            output,
            error,
            finishedAt,
            promptTokens: sums._sum.promptTokens ?? 0,
            completionTokens: sums._sum.completionTokens ?? 0,
            costUsd: sums._sum.costUsd ?? 0,
          },
        }),
      ]);
      publish(jobId, job.projectId, status);
      const approval = job.approval as ApprovalState | null;
      const endedByApproval = status === 'cancelled' && (approval?.state === 'timed_out' || (approval?.state === 'rejected' && approval.decidedBy?.id !== job.userId));
      await announce(jobId, jobEventOf(status), endedByApproval ? [job.userId] : undefined);
    },
  };
}
