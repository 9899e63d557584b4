import type { Client } from '@temporalio/client';
import { jobWorkflowId } from '../workflows/definitions';

export function createSchedulerActivities({ temporal }: { temporal: Client }) {
  return {
    /**
     * Which of these jobs' workflows are no longer running. The scheduler gives their leases
     * back: a terminated or timed-out workflow never says it is done.
     */
    async findFinishedJobs(jobIds: string[]): Promise<string[]> {
      const finished: string[] = [];
      for (const jobId of jobIds) {
        const status = await temporal.workflow
          .getHandle(jobWorkflowId(jobId))
          .describe()
          .then((description) => description.status.name)
          .catch((error: unknown) => ((error as Error).name === 'WorkflowNotFoundError' ? 'NOT_FOUND' : 'UNKNOWN'));
        if (status !== 'RUNNING' && status !== 'UNKNOWN') finished.push(jobId);
      }
      return finished;
    },
  };
}
