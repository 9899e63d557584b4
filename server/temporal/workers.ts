import type { DataConverter } from '@temporalio/common';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { schedulerTaskQueue } from '../../workflows/scheduler/api';
import { DEFAULT_WORKER_CACHED_WORKFLOWS } from '../env';
import { jobActivityLogAttributes } from '../log/temporal';
import { databaseOutageFailures } from './database-outage';
import { workerTuning } from './worker-options';

/**
 * The scheduler's queue holds one workflow (its scheduler, a few runs at a hand-over): a cache
 * sized for jobs would only let the SDK hold more of them than exist.
 */
const SCHEDULER_CACHED_WORKFLOWS = 4;

/**
 * The two workers of a worker process: one for the jobs' task queue, one for their scheduler's
 * own queue (see `schedulerTaskQueue`), so that the scheduler's workflow tasks never queue behind
 * a burst of jobs'. They share the activities, and so the batcher through which this process's
 * jobs signal their scheduler. `cachedWorkflows` bounds the job workflows kept in memory
 * (WORKER_CACHED_WORKFLOWS): the rest are replayed from their histories when they next have work.
 */
export async function createJobWorkers({
  cachedWorkflows = DEFAULT_WORKER_CACHED_WORKFLOWS,
  ...options
}: WorkerOptions & { taskQueue: string; dataConverter: DataConverter; cachedWorkflows?: number }) {
  const interceptors = { ...options.interceptors, activity: [jobActivityLogAttributes, databaseOutageFailures, ...(options.interceptors?.activity ?? [])] };
  // The SDK's default of 40 concurrent workflow tasks may not exceed the cache.
  const jobs = await Worker.create({
    ...workerTuning,
    ...options,
    interceptors,
    maxCachedWorkflows: cachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: Math.min(40, cachedWorkflows),
  });
  const scheduler = await Worker.create({
    ...workerTuning,
    ...options,
    interceptors,
    taskQueue: schedulerTaskQueue(options.taskQueue),
    maxCachedWorkflows: SCHEDULER_CACHED_WORKFLOWS,
    maxConcurrentWorkflowTaskExecutions: 2,
  });
  const workers = [jobs, scheduler];
  const shutdown = () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  return {
    /** Runs both until both stop; one that stops (or fails) stops the other. */
    async run(): Promise<void> {
      const stopped = await Promise.allSettled(workers.map((worker) => worker.run().finally(shutdown)));
      const failed = stopped.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    },
    shutdown,
  };
}

export type JobWorkers = Awaited<ReturnType<typeof createJobWorkers>>;
