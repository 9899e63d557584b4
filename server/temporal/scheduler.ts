import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { PrismaClient } from '../generated/prisma/client';
import { loadServing } from '../services/backends';
import { toTierPolicy } from '../services/tier-policy';
import type { schedulerWorkflow } from '../../workflows/scheduler/workflow';
import type { TemporalProvider } from './client';
import {
  configureSignal,
  schedulerTaskQueue,
  schedulerWorkflowId,
  statusQuery,
  type SchedulerInput,
  type SchedulerNotice,
  type SchedulerSetup,
  type SchedulerStatus,
} from '../../workflows/scheduler/api';

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

/**
 * Hands the running scheduler the tiers, catalogue and backends as stored now. Every change to
 * any of them calls this at once, so a new backend takes a waiting job without a restart and a
 * drained one gets no further grant.
 */
export async function tellScheduler(temporal: TemporalProvider, prisma: PrismaClient): Promise<SchedulerNotice> {
  try {
    const client = await temporal.get();
    await client.workflow.getHandle(schedulerWorkflowId(temporal.config.taskQueue)).signal(configureSignal, await loadSchedulerSetup(prisma));
    return 'updated';
  } catch (error) {
    return error instanceof WorkflowNotFoundError ? 'not-running' : 'unreachable';
  }
}

/** What the scheduler sees now; null while it cannot answer (pages paint from the database meanwhile). */
export async function readSchedulerStatus(temporal: TemporalProvider): Promise<SchedulerStatus | null> {
  try {
    return await (await temporal.get()).workflow.getHandle(schedulerWorkflowId(temporal.config.taskQueue)).query(statusQuery);
  } catch {
    return null;
  }
}
