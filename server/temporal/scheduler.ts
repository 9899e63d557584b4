import type { Client } from '@temporalio/client';
import type { PrismaClient, Tier } from '../generated/prisma/client';
import type { TierPolicy } from '../../workflows/scheduler/core';
import type { LlmBackend } from '../llm/types';
import type { schedulerWorkflow } from '../../workflows/scheduler/workflow';
import { configureSignal, schedulerTaskQueue, schedulerWorkflowId, type SchedulerInput, type SchedulerSetup } from '../../workflows/scheduler/api';

export interface BackendRegistration {
  backend: LlmBackend;
  url: string;
  pool: string;
  /** Requests it serves at once (Ollama's OLLAMA_NUM_PARALLEL). */
  slots: number;
  /** Leases beyond the slots (see `Backend.prefetch`); absent: none. */
  prefetch?: number;
}

/**
 * Records the configured backends in the database, which admins edit from then on: a new one is
 * added with its pool, slots and the models it reports; a known one only refreshes its models.
 */
export async function registerBackends(prisma: PrismaClient, registrations: BackendRegistration[]): Promise<void> {
  for (const { backend, url, pool, slots, prefetch } of registrations) {
    const models = await backend
      .listModels()
      .then((list) => list.map((m) => m.name))
      .catch(() => null);
    await prisma.backend.upsert({
      where: { id: backend.id },
      create: { id: backend.id, kind: backend.kind, url, pool, slots, prefetch, models: models ?? [] },
      update: models ? { models } : {},
    });
  }
}

/** A tier row as the scheduler sees it (budgets and prompt limits are the web's admission). */
export function toTierPolicy(tier: Tier): TierPolicy {
  return {
    name: tier.name,
    weight: tier.weight,
    basePriority: tier.basePriority,
    maxRunningPerUser: tier.maxRunningPerUser,
    maxQueuedPerUser: tier.maxQueuedPerUser,
    allowedModels: tier.allowedModels,
    poolPreference: tier.poolPreference,
    cloudFallback: tier.cloudFallback,
    cloudFallbackAfterSec: tier.cloudFallbackAfterSec,
    minShare: tier.minShare,
  };
}

/** Tiers and enabled backends as the scheduler sees them. */
export async function loadSchedulerSetup(prisma: PrismaClient): Promise<SchedulerSetup> {
  const [tiers, backends] = await Promise.all([
    prisma.tier.findMany({ orderBy: { name: 'asc' } }),
    prisma.backend.findMany({ where: { enabled: true }, orderBy: { id: 'asc' } }),
  ]);
  return {
    tiers: tiers.map(toTierPolicy),
    backends: backends.map((backend) => ({
      id: backend.id,
      kind: backend.kind,
      pool: backend.pool,
      slots: backend.slots,
      prefetch: effectivePrefetch(backend),
      models: backend.models,
      rpmLimit: backend.rpmLimit ?? 0,
      // Ollama keeps up to three models resident by default (OLLAMA_MAX_LOADED_MODELS).
      maxLoadedModels: backend.kind === 'ollama' ? 3 : Math.max(1, backend.models.length),
    })),
  };
}

/**
 * A backend's stored prefetch; none when unset, and never for cloud. Off by default: a job keeps
 * its slot through its review, and a pipelined request would take that slot in Ollama's queue
 * ahead of the review, delaying it by a whole generation (see README, "Pipelining").
 */
export function effectivePrefetch(backend: { kind: 'ollama' | 'openai'; prefetch: number | null }): number {
  return backend.kind === 'ollama' ? (backend.prefetch ?? 0) : 0;
}

/**
 * Starts the task queue's scheduler (on its own queue, `schedulerTaskQueue`) if it is not running,
 * and hands it the current setup.
 */
export async function ensureScheduler(
  client: Client,
  prisma: PrismaClient,
  taskQueue: string,
  options: Pick<SchedulerInput, 'leaseCheckMs' | 'config' | 'historyLimit'> = {},
): Promise<void> {
  const setup = await loadSchedulerSetup(prisma);
  await client.workflow.signalWithStart<typeof schedulerWorkflow, [SchedulerSetup]>('schedulerWorkflow', {
    workflowId: schedulerWorkflowId(taskQueue),
    taskQueue: schedulerTaskQueue(taskQueue),
    args: [{ setup, ...options }],
    signal: configureSignal,
    signalArgs: [setup],
  });
}
