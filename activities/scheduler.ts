import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { jobWorkflowId } from '../workflows/definitions';
import { doneSignal, grantSignal, refusedSignal, type JobDone, type JobMessage } from '../workflows/scheduler-api';

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

    /**
     * A job gives its lease back (or leaves the queue). Run as a local activity: a signal sent
     * from workflow code costs the job two more history events and a workflow task of its own
     * to record that it arrived; from here it costs neither. Signalling twice is harmless: the
     * scheduler ignores a release for a job it no longer holds.
     */
    async releaseCapacity({ schedulerWorkflowId, done }: { schedulerWorkflowId: string; done: JobDone }): Promise<void> {
      await temporal.workflow.getHandle(schedulerWorkflowId).signal(doneSignal, done);
    },

    /**
     * The scheduler's grants and refusals, sent together as one local activity of its workflow
     * task (signals from workflow code would each cost it two events and the acknowledgement a
     * workflow task). Answers the jobs whose workflows are gone, whose grants go back. Sending a
     * message twice (a retry) is harmless: a job takes the same grant once.
     */
    async messageJobs(messages: JobMessage[]): Promise<{ granted: string[]; gone: string[] }> {
      const gone: string[] = [];
      const sent = await Promise.allSettled(
        messages.map(async (message) => {
          const job = temporal.workflow.getHandle(jobWorkflowId(message.jobId));
          try {
            if ('grant' in message) await job.signal(grantSignal, message.grant);
            else await job.signal(refusedSignal, { reason: message.refusal });
          } catch (error) {
            if (error instanceof WorkflowNotFoundError) gone.push(message.jobId);
            else throw error;
          }
        }),
      );
      const failed = sent.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      // The granted jobs in dispatch order, for the history to keep (bench:scheduler reads it).
      return { granted: messages.filter((message) => 'grant' in message).map((message) => message.jobId), gone };
    },
  };
}
