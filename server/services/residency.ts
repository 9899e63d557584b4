import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { SessionUser } from '../auth/session';
import { NotFoundError, ValidationError } from '../errors';
import type { TemporalProvider } from '../temporal/client';
import { sameOllamaModel } from '../llm/model-names';
import type { SchedulerNotice } from '../../workflows/scheduler/api';
import type { PullModelInput } from '../../activities/types';
import type { pullModelWorkflow } from '../../workflows/pull-model';

/** Residency read from Ollama (docs/residency.md), for admins: what each backend holds, pulls, limits. */

export interface BackendResidencyView {
  id: string;
  name: string;
  pool: string;
  url: string;
  memoryBudgetMb: number | null;
  maxLoadedModels: number | null;
  /** Catalogue entries' Ollama models this backend does not have on disk (it could pull them). */
  absent: string[];
  models: Array<{ model: string; present: boolean; loaded: boolean; sizeBytes: number; expiresAt: Date | null; seenAt: Date }>;
}

export interface ResidencyView {
  backends: BackendResidencyView[];
  /** Enabled catalogue entries no Ollama backend of a pool has on disk: jobs there cannot run them. */
  missing: Array<{ pool: string; model: string; ollamaModel: string }>;
}

const backendSelect = {
  id: true,
  name: true,
  pool: true,
  url: true,
  models: true,
  memoryBudgetMb: true,
  maxLoadedModels: true,
  residency: { select: { model: true, present: true, loaded: true, sizeBytes: true, expiresAt: true, seenAt: true }, orderBy: { model: 'asc' } },
} satisfies Prisma.BackendSelect;

/** For the admin page: every enabled Ollama backend's last read, and what each pool lacks. */
export async function residencyView(prisma: PrismaClient): Promise<ResidencyView> {
  const [rows, entries] = await Promise.all([
    prisma.backend.findMany({ where: { kind: 'ollama', enabled: true }, select: backendSelect, orderBy: [{ pool: 'asc' }, { name: 'asc' }] }),
    prisma.catalogModel.findMany({ where: { enabled: true, ollamaModel: { not: null } }, select: { name: true, ollamaModel: true }, orderBy: { name: 'asc' } }),
  ]);
  const missing: ResidencyView['missing'] = [];
  for (const pool of [...new Set(rows.map((row) => row.pool))]) {
    const inPool = rows.filter((row) => row.pool === pool);
    for (const entry of entries) {
      if (!inPool.some((row) => row.models.some((model) => sameOllamaModel(model, entry.ollamaModel!)))) {
        missing.push({ pool, model: entry.name, ollamaModel: entry.ollamaModel! });
      }
    }
  }
  return {
    backends: rows.map(({ residency, models, ...row }) => ({
      ...row,
      absent: [...new Set(entries.map((entry) => entry.ollamaModel!))].filter((model) => !models.some((present) => sameOllamaModel(present, model))),
      models: residency.map((r) => ({ ...r, sizeBytes: Number(r.sizeBytes) })),
    })),
    missing,
  };
}

/** One pull per backend and model at a time: the id names both. */
export const pullWorkflowId = ({ backendId, model }: PullModelInput) => `pull-${backendId}-${model}`;

export const residencyLimits = z.object({
  memoryBudgetMb: z.number({ error: 'Enter a whole number of megabytes, or leave it empty to learn it.' }).int().min(256).max(4_194_304).nullable(),
  maxLoadedModels: z.number({ error: 'Enter a whole number of models, or leave it empty for 3.' }).int().min(1).max(64).nullable(),
});

export function createResidencyService({ prisma, temporal, tellScheduler }: { prisma: PrismaClient; temporal: TemporalProvider; tellScheduler: () => Promise<SchedulerNotice> }) {
  return {
    view: () => residencyView(prisma),

    /** What an Ollama backend may hold (null: learned budget, Ollama's default count); audited, told to the scheduler. */
    async setLimits(actor: SessionUser, backendId: string, limits: z.infer<typeof residencyLimits>) {
      const before = await prisma.backend.findFirst({ where: { id: backendId, kind: 'ollama' }, select: { memoryBudgetMb: true, maxLoadedModels: true } });
      if (!before) throw new NotFoundError('backend');
      await prisma.$transaction([
        prisma.backend.update({ where: { id: backendId }, data: limits }),
        prisma.auditLog.create({ data: { actorId: actor.id, action: 'backend.residency', targetType: 'backend', targetId: backendId, data: { before, after: limits } } }),
      ]);
      return { scheduler: await tellScheduler() };
    },

    /**
     * Starts pulling a catalogue entry's Ollama model onto an enabled Ollama backend; its progress
     * reaches the admins' residency room. `started` false: that pull is already running.
     */
    async pull(actor: SessionUser, backendId: string, model: string): Promise<{ started: boolean }> {
      const backend = await prisma.backend.findFirst({ where: { id: backendId, kind: 'ollama', enabled: true }, select: { id: true } });
      if (!backend) throw new NotFoundError('backend');
      const entry = await prisma.catalogModel.findFirst({ where: { ollamaModel: model }, select: { name: true } });
      if (!entry) throw new ValidationError('Only a model the catalogue maps to Ollama can be pulled.', 'model');
      const input: PullModelInput = { backendId, model };
      try {
        const client = await temporal.get();
        await client.workflow.start<typeof pullModelWorkflow>('pullModelWorkflow', { workflowId: pullWorkflowId(input), taskQueue: temporal.config.taskQueue, args: [input] });
      } catch (error) {
        if (error instanceof WorkflowExecutionAlreadyStartedError) return { started: false };
        throw error;
      }
      await prisma.auditLog.create({ data: { actorId: actor.id, action: 'backend.pull', targetType: 'backend', targetId: backendId, data: { model, catalogue: entry.name } } });
      return { started: true };
    },
  };
}
