import type { Client } from '@temporalio/client';
import type { PrismaClient } from '../generated/prisma/client';
import { loadServing } from '../services/backends';
import { toTierPolicy } from '../services/tier-policy';
import type { schedulerWorkflow } from '../../workflows/scheduler/workflow';
import { configureSignal, schedulerTaskQueue, schedulerWorkflowId, type SchedulerInput, type SchedulerSetup } from '../../workflows/scheduler/api';

/** Tiers and enabled backends as the scheduler sees them (backends serve catalogue names). */
export async function loadSchedulerSetup(prisma: PrismaClient): Promise<SchedulerSetup> {
  const [tiers, { backends }] = await Promise.all([prisma.tier.findMany({ orderBy: { name: 'asc' } }), loadServing(prisma)]);
  return { tiers: tiers.map(toTierPolicy), backends };
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
