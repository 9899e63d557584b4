import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ResourceConfig, ResourceState, ResourceStatus } from './types';

/** How the worker and the web talk to the resource manager; definitions only. */

/** One resource manager per task queue, beside that queue's scheduler. */
export const resourceManagerWorkflowId = (taskQueue: string) => `resources-${taskQueue}`;

export interface ResourceManagerInput {
  config: ResourceConfig;
  /** Continue-as-new past this many history events; default 2,000. */
  maxHistoryEvents?: number;
  /** Carried across continue-as-new. */
  state?: ResourceState;
}

/** New configuration (a worker started with other settings); the window is kept. */
export const configureResourcesSignal = defineSignal<[ResourceConfig]>('configureResources');
export const resourceStatusQuery = defineQuery<ResourceStatus>('resourceStatus');
