import { WorkflowUpdateFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { jobWorkflowId } from '../../workflows/definitions';
import { agentPart, approvalUpdate, type ApprovalState } from '../../workflows/collaboration/api';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { ForbiddenError, NotFoundError, UnavailableError, ValidationError } from '../errors';
import type { SessionUser } from '../auth/session';
import type { TemporalProvider } from '../temporal/client';
import type { BackendNames } from './backend-names';
import { requireServableModel, type AdmissionTier } from './admission';
import { defaultTemplate, templateInput, templateModels, type Step, type Template } from './collaboration-template';
import { jobDetailSelect, PRIORITIES, type JobService } from './jobs';
import { stepJobId } from './step-ids';
import type { ProjectService } from './projects';
import type { CatalogService } from './catalog';

/**
 * Collaboration jobs: teams' templates (owners edit them, members use them), submitting a
 * collaboration (admitted as one job, its steps created with it as child rows), reading it as a
 * tree, and deciding its approval through the workflow's update.
 */

export interface SubmitCollaborationInput {
  projectId: string;
  task: string;
  /** null: the built-in template (the seed's three specialists) on the default model. */
  templateId?: string | null | undefined;
  clientKey: string;
}

export interface ApprovalInput {
  action: 'approve' | 'reject';
  edits: { part: string; text: string }[];
}

const templateSelect = {
  id: true,
  teamId: true,
  name: true,
  agents: true,
  integrator: true,
  reviewer: true,
  failurePolicy: true,
  fallbackModel: true,
  approval: true,
  approvalTimeoutSeconds: true,
  approvalTimeoutAction: true,
  updatedAt: true,
} satisfies Prisma.CollaborationTemplateSelect;

const stepSelect = {
  ...jobDetailSelect,
  part: true,
  role: true,
} satisfies Prisma.JobSelect;

interface CollaborationDeps {
  prisma: PrismaClient;
  temporal: TemporalProvider;
  projects: ProjectService;
  jobs: JobService;
  defaultModel: string;
  temporalUiUrl: string;
  backendNames: BackendNames;
  catalog: Pick<CatalogService, 'offeredTo'>;
}

/** Where a template first names `model`, as the template editor's field path. */
function modelField(template: Template, model: string): string {
  const agent = template.agents.findIndex((a) => a.model === model);
  if (agent >= 0) return `template.agents.${agent}.model`;
  if (template.integrator.model === model) return 'template.integrator.model';
  if (template.reviewer.model === model) return 'template.reviewer.model';
  return 'template.fallbackModel';
}

/** What the audit log keeps of a template: its shape, not its prompts. */
const audited = (t: Template) => ({
  name: t.name,
  agents: t.agents.map(({ role, model, priority }) => ({ role, model, priority })),
  integrator: t.integrator.model,
  reviewer: t.reviewer.model,
  failurePolicy: t.failurePolicy,
  fallbackModel: t.fallbackModel ?? null,
  approval: t.approval ? { timeoutSeconds: t.approvalTimeoutSeconds, onTimeout: t.approvalTimeoutAction } : null,
});

export function createCollaborationService({ prisma, temporal, projects, jobs, defaultModel, temporalUiUrl, backendNames, catalog }: CollaborationDeps) {
  const memberOf = (userId: string) => ({ team: { memberships: { some: { userId } } } }) satisfies Prisma.CollaborationTemplateWhereInput;
  const ownerOf = (userId: string) => ({ team: { memberships: { some: { userId, role: 'owner' } } } }) satisfies Prisma.CollaborationTemplateWhereInput;

  /** The template with each model replaced by the catalogue name the tier may use, or why not (on the step that names it). */
  async function withServableModels(db: Prisma.TransactionClient | PrismaClient, tier: AdmissionTier, template: Template): Promise<Template> {
    const names = new Map<string, string>();
    for (const model of templateModels(template)) {
      try {
        names.set(model, await requireServableModel(db, tier, model));
      } catch (error) {
        if (error instanceof ValidationError) throw new ValidationError(error.message, modelField(template, model));
        throw error;
      }
    }
    const step = (s: Step): Step => ({ ...s, model: names.get(s.model)! });
    return {
      ...template,
      agents: template.agents.map(step),
      integrator: step(template.integrator),
      reviewer: step(template.reviewer),
      fallbackModel: template.fallbackModel ? names.get(template.fallbackModel)! : null,
    };
  }

  async function requireOwnedTeam(userId: string, teamId: string) {
    const team = await prisma.team.findFirst({ where: { id: teamId, memberships: { some: { userId } } }, select: { id: true, tier: true, memberships: { where: { userId }, select: { role: true } } } });
    if (!team) throw new NotFoundError('team');
    if (team.memberships[0]?.role !== 'owner') throw new ForbiddenError('Only a team owner can edit collaboration templates.');
    return team;
  }

  const parsed = (row: Prisma.CollaborationTemplateGetPayload<{ select: typeof templateSelect }>): Template => templateInput.parse(row);

  const temporalUrl = (workflowId: string, runId: string | null) =>
    `${temporalUiUrl}/namespaces/${temporal.config.namespace}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${runId}` : ''}/history`;

  return {
    /**
     * The team's templates and the built-in one every team has; for the editor, whether `userId`
     * may change them (owners) and the models the team's tier may use. Nothing for a non-member.
     */
    async listTemplates(userId: string, teamId: string) {
      const builtIn = defaultTemplate(defaultModel);
      const team = await prisma.team.findFirst({
        where: { id: teamId, memberships: { some: { userId } } },
        select: { tier: true, memberships: { where: { userId }, select: { role: true } } },
      });
      if (!team) return { builtIn, templates: [], canEdit: false, models: [] };
      const rows = await prisma.collaborationTemplate.findMany({ where: { teamId, ...memberOf(userId) }, select: templateSelect, orderBy: { name: 'asc' } });
      return {
        builtIn,
        templates: rows.map((row) => ({ id: row.id, updatedAt: row.updatedAt, ...parsed(row) })),
        canEdit: team.memberships[0]?.role === 'owner',
        models: (await catalog.offeredTo(team.tier)).map((m) => m.name),
      };
    },

    /** Creates (no `templateId`) or replaces a team's template: owners only, models the tier allows; audited. */
    async saveTemplate(user: SessionUser, teamId: string, templateId: string | null, input: Template) {
      const team = await requireOwnedTeam(user.id, teamId);
      const template = await withServableModels(prisma, team.tier, input);
      const data = { ...template, fallbackModel: template.fallbackModel ?? null } satisfies Prisma.CollaborationTemplateUncheckedUpdateInput;
      const audit = (action: string, id: string, change: Prisma.InputJsonValue) =>
        prisma.auditLog.create({ data: { actorId: user.id, teamId, action, targetType: 'collaborationTemplate', targetId: id, data: change } });
      try {
        if (templateId) {
          const before = await prisma.collaborationTemplate.findFirst({ where: { id: templateId, teamId, ...ownerOf(user.id) }, select: templateSelect });
          if (!before) throw new NotFoundError('template');
          await prisma.$transaction([
            prisma.collaborationTemplate.update({ where: { id: templateId }, data }),
            audit('collaborationTemplate.update', templateId, { before: audited(parsed(before)), after: audited(template) }),
          ]);
          return { id: templateId };
        }
        const id = randomUUID();
        await prisma.$transaction([
          prisma.collaborationTemplate.create({ data: { ...data, id, teamId } }),
          audit('collaborationTemplate.create', id, { after: audited(template) }),
        ]);
        return { id };
      } catch (error) {
        if ((error as { code?: string }).code === 'P2002') throw new ValidationError(`The team already has a template named ${template.name}.`, 'template.name');
        throw error;
      }
    },

    async deleteTemplate(user: SessionUser, templateId: string) {
      const template = await prisma.collaborationTemplate.findFirst({ where: { id: templateId, ...memberOf(user.id) }, select: templateSelect });
      if (!template) throw new NotFoundError('template');
      await requireOwnedTeam(user.id, template.teamId);
      await prisma.$transaction([
        prisma.collaborationTemplate.deleteMany({ where: { id: templateId, ...ownerOf(user.id) } }),
        prisma.auditLog.create({
          data: { actorId: user.id, teamId: template.teamId, action: 'collaborationTemplate.delete', targetType: 'collaborationTemplate', targetId: templateId, data: { before: audited(parsed(template)) } },
        }),
      ]);
      return { id: templateId };
    },

    /**
     * Admits the collaboration as one job (the queue cap counts it once; every step's model must
     * be one the tier may use), creates its row and its steps' rows in the same transaction, and
     * starts its workflow. A repeated submit with the same client key returns the same job.
     */
    async submit(user: SessionUser, input: SubmitCollaborationInput) {
      const project = await projects.require(user.id, input.projectId);
      let template = defaultTemplate(defaultModel);
      if (input.templateId) {
        const row = await prisma.collaborationTemplate.findFirst({ where: { id: input.templateId, teamId: project.team.id, ...memberOf(user.id) }, select: templateSelect });
        if (!row) throw new NotFoundError('template');
        template = parsed(row);
      }
      const { job, created } = await jobs.admission.admit(
        { userId: user.id, team: project.team, model: template.integrator.model, requirements: input.task },
        {
          existing: (tx) => tx.job.findUnique({ where: { userId_clientKey: { userId: user.id, clientKey: input.clientKey } }, select: { id: true, status: true } }),
          create: async (tx) => {
            const served = await withServableModels(tx, project.team.tier, template);
            const id = randomUUID();
            const common = { teamId: project.team.id, projectId: project.id, userId: user.id, requirements: input.task, kind: 'multi_agent' as const };
            const steps: [string, Step][] = [...served.agents.map((step, i): [string, Step] => [agentPart(i), step]), ['integration', served.integrator], ['review', served.reviewer]];
            const parent = await tx.job.create({
              data: { ...common, id, clientKey: input.clientKey, model: served.integrator.model, workflowId: jobWorkflowId(id), collaboration: { ...served } },
              select: { id: true, status: true },
            });
            await tx.job.createMany({
              data: steps.map(([part, step]) => ({
                ...common,
                id: stepJobId(id, part),
                parentId: id,
                part,
                role: step.role,
                clientKey: `${id}:${part}`,
                model: step.model,
                priority: PRIORITIES[step.priority],
                workflowId: jobWorkflowId(stepJobId(id, part)),
              })),
            });
            return parent;
          },
        },
      );
      if (!created) return job;
      try {
        await jobs.startWorkflow({ jobId: job.id }, 'collaborationWorkflow');
      } catch (error) {
        // Nothing runs for these rows; the steps go with their collaboration (cascade).
        await prisma.job.delete({ where: { id: job.id } });
        throw error;
      }
      return job;
    },

    /**
     * The collaboration and its steps as the database has them, in the tree's order; whether
     * `user` may decide its approval. Live state (tokens, queue places) arrives over the rooms.
     */
    async get(user: SessionUser, jobId: string) {
      const job = await prisma.job.findFirst({
        where: { id: jobId, kind: 'multi_agent', parentId: null, team: { memberships: { some: { userId: user.id } } } },
        // Parts sort as the tree reads: agent-0 … agent-7 (each followed by its fallback), integration, review.
        select: { ...jobDetailSelect, approval: true, children: { select: stepSelect, orderBy: { part: 'asc' } } },
      });
      if (!job) throw new NotFoundError('collaboration');
      const steps = await Promise.all(
        job.children.map(async (step) => ({
          ...(user.isAdmin ? step : await backendNames.forUser(step)),
          temporalUrl: temporalUrl(step.workflowId, step.runId),
        })),
      );
      const approval = job.approval as ApprovalState | null;
      const { children: _children, ...parent } = job;
      return {
        ...(user.isAdmin ? parent : await backendNames.forUser(parent)),
        approval,
        canDecide: approval?.state === 'waiting' && approval.approvers.some((a) => a.id === user.id),
        temporalUrl: temporalUrl(job.workflowId, job.runId),
        steps,
      };
    },

    /** Approves (with edits) or rejects a collaboration that waits; the workflow's validator has the last word. */
    async decide(user: SessionUser, jobId: string, input: ApprovalInput) {
      const job = await prisma.job.findFirst({
        where: { id: jobId, kind: 'multi_agent', parentId: null, team: { memberships: { some: { userId: user.id } } } },
        select: { id: true, workflowId: true, approval: true },
      });
      if (!job) throw new NotFoundError('collaboration');
      const approval = job.approval as ApprovalState | null;
      if (approval?.state !== 'waiting') throw new ValidationError('The collaboration is not waiting for approval.');
      if (!approval.approvers.some((a) => a.id === user.id)) throw new ForbiddenError('Only the job’s author or a team owner can decide.');
      const client = await temporal.get().catch(() => {
        throw new UnavailableError('The job service (Temporal) is unreachable; try again in a moment.');
      });
      try {
        await client.workflow.getHandle(job.workflowId).executeUpdate(approvalUpdate, { args: [{ userId: user.id, ...input }] });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) throw new ValidationError(error.cause?.message ?? error.message);
        throw error;
      }
      return { id: job.id, action: input.action };
    },
  };
}

export type CollaborationService = ReturnType<typeof createCollaborationService>;
