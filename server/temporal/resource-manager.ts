import type { Client } from '@temporalio/client';
import type { ResourceConfig } from '../../workflows/resources';
import { configureResourcesSignal, resourceManagerWorkflowId } from '../../workflows/resources/api';
import type { resourceManagerWorkflow } from '../../workflows/resources/workflow';

/** Starts the task queue's resource manager if it is not running, and hands it this worker's settings. */
export async function ensureResourceManager(
  client: Client,
  taskQueue: string,
  config: ResourceConfig,
  options: { maxHistoryEvents?: number } = {},
): Promise<void> {
  await client.workflow.signalWithStart<typeof resourceManagerWorkflow, [ResourceConfig]>('resourceManagerWorkflow', {
    workflowId: resourceManagerWorkflowId(taskQueue),
    taskQueue,
    args: [{ config, ...options }],
    signal: configureResourcesSignal,
    signalArgs: [config],
  });
}
