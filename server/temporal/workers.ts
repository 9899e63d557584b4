import type { DataConverter } from '@temporalio/common';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { schedulerTaskQueue } from '../../workflows/scheduler/api';
import { workerTuning } from './worker-options';

/**
 * The two workers of a worker process: one for the jobs' task queue, one for their scheduler's
 * own queue (see `schedulerTaskQueue`), so that the scheduler's workflow tasks never queue behind
 * a burst of jobs'. They share the activities: the scheduler's local activities hold and let go
 * of the very batcher through which this process's jobs signal it.
 */
export async function createJobWorkers(options: WorkerOptions & { taskQueue: string; dataConverter: DataConverter }) {
  const jobs = await Worker.create({ ...workerTuning, ...options });
  const scheduler = await Worker.create({ ...workerTuning, ...options, taskQueue: schedulerTaskQueue(options.taskQueue) });
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
