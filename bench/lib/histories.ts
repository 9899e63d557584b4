import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { median } from './stats';

/**
 * What Temporal records per job: history events and workflow tasks, on the job's own workflow and
 * on the scheduler's. Every event is a write on the server and every workflow task a round trip
 * through matching and the worker, so these counts say where the server's CPU per job goes.
 */

export interface HistoryCounts {
  /** Median over the sampled jobs. */
  jobEvents: number;
  jobWorkflowTasks: number;
  /** One sampled job's events by type, in order of first appearance. */
  jobEventTypes: Record<string, number>;
  /** Scheduler events and workflow tasks recorded within the window, per job completed in it. */
  schedulerEventsPerJob: number;
  schedulerWorkflowTasksPerJob: number;
}

export type HistoryEvent = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>[number];

/** The event's type, named by the attributes it carries: `workflowTaskCompleted`, `markerRecorded`, … */
const typeName = (event: HistoryEvent) =>
  Object.keys(event)
    .find((key) => key.endsWith('EventAttributes') && event[key as keyof HistoryEvent])
    ?.replace(/EventAttributes$/, '') ?? 'unknown';
const isTaskCompleted = (event: HistoryEvent) => Boolean(event.workflowTaskCompletedEventAttributes);

export async function countHistories(
  client: Client,
  options: { jobWorkflowIds: string[]; schedulerWorkflowId: string; from: number; to: number; jobsCompleted: number },
): Promise<HistoryCounts> {
  const events: number[] = [];
  const tasks: number[] = [];
  let jobEventTypes: Record<string, number> = {};
  for (const workflowId of options.jobWorkflowIds) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const list = history.events ?? [];
    events.push(list.length);
    tasks.push(list.filter((event) => isTaskCompleted(event)).length);
    if (Object.keys(jobEventTypes).length === 0) {
      jobEventTypes = {};
      for (const event of list) jobEventTypes[typeName(event)] = (jobEventTypes[typeName(event)] ?? 0) + 1;
    }
  }

  // The scheduler continues as new every few thousand events: count over all its runs.
  let schedulerEvents = 0;
  let schedulerTasks = 0;
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${options.schedulerWorkflowId}'` })) {
    const history = await client.workflow.getHandle(options.schedulerWorkflowId, execution.runId).fetchHistory();
    for (const event of history.events ?? []) {
      const at = tsToMs(event.eventTime);
      if (at < options.from || at > options.to) continue;
      schedulerEvents++;
      if (isTaskCompleted(event)) schedulerTasks++;
    }
  }
  const perJob = (n: number) => Math.round((n / Math.max(1, options.jobsCompleted)) * 100) / 100;
  return {
    jobEvents: median(events),
    jobWorkflowTasks: median(tasks),
    jobEventTypes,
    schedulerEventsPerJob: perJob(schedulerEvents),
    schedulerWorkflowTasksPerJob: perJob(schedulerTasks),
  };
}
