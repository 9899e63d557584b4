import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import type { PrismaClient } from '../server/generated/prisma/client';
import { ensureScheduler } from '../server/scheduler/setup';
import { jobWorkflowId } from '../workflows/definitions';
import {
  doneSignal,
  enqueueSignal,
  grantSignal,
  refusedSignal,
  schedulerWorkflowId,
  type CapacityRequest,
  type JobDone,
  type JobMessage,
} from '../workflows/scheduler-api';

export function createSchedulerActivities({ temporal, prisma }: { temporal: Client; prisma: PrismaClient }) {
  return {
    /**
     * A job asks the scheduler of its task queue for a slot (or asks again). Run as a local
     * activity inside the job's workflow task, like `releaseCapacity`: no history events or
     * workflow task of the job's own for the signal. Asking from the job's first workflow task
     * rather than from the web at submit means the scheduler only ever grants slots to jobs whose
     * workflows already run: under a burst of submissions, a grant to a job still waiting for its
     * first workflow task would leave the slot idle until the task queue's backlog reached it.
     * A scheduler that is not running (never started, or terminated) is started with the
     * current setup, and the job waits in it.
     */
    async requestCapacity(request: CapacityRequest): Promise<void> {
      const { taskQueue } = Context.current().info;
      const scheduler = temporal.workflow.getHandle(schedulerWorkflowId(taskQueue));
      try {
        await scheduler.signal(enqueueSignal, request);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
        await ensureScheduler(temporal, prisma, taskQueue);
        await scheduler.signal(enqueueSignal, request);
      }
    },

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
