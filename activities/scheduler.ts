import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { jobWorkflowId } from '../workflows/definitions';
import {
  grantSignal,
  messagesSignal,
  refusedSignal,
  schedulerWorkflowId,
  type CapacityRequest,
  type JobDone,
  type JobMessage,
  type SchedulerMessage,
} from '../workflows/scheduler/api';
import type { PrismaClient } from '../server/generated/prisma/client';
import type { PackedWaiting } from '../workflows/scheduler/core';
import { createCarriedWaiting } from './carried-waiting';
import { createHandOverGate } from './hand-over-gate';
import { createSignalBatcher, type SignalBatcher } from './signal-batcher';

/** Messages per signal: far below Temporal's payload limit (a request is under a kilobyte). */
const MAX_MESSAGES_PER_SIGNAL = 200;

export interface SchedulerActivityDeps {
  temporal: Client;
  /**
   * Where every worker process reads the scheduler's hand-over hold (activities/hand-over-gate.ts),
   * and where its waiting list waits for the next run (activities/carried-waiting.ts).
   */
  prisma: PrismaClient;
  /** Starts the task queue's scheduler when it is not running (the worker knows how to set it up). */
  startScheduler: (taskQueue: string) => Promise<void>;
}

export function createSchedulerActivities({ temporal, prisma, startScheduler }: SchedulerActivityDeps) {
  const handOver = createHandOverGate(prisma);
  const carried = createCarriedWaiting(prisma);
  /**
   * Jobs' requests and releases go to their scheduler batched: under a burst, thousands of
   * signals (each a history event and a persistence write on the server, often a workflow task
   * of the scheduler's) become a few, in the order the jobs sent them.
   */
  const batchers = new Map<string, SignalBatcher<SchedulerMessage>>();
  function toScheduler(workflowId: string): SignalBatcher<SchedulerMessage> {
    let batcher = batchers.get(workflowId);
    if (!batcher) {
      // The jobs that talk to a scheduler run on its task queue.
      const { taskQueue } = Context.current().info;
      const scheduler = temporal.workflow.getHandle(workflowId);
      batcher = createSignalBatcher<SchedulerMessage>(
        (messages) =>
          handOver.pass(workflowId, async () => {
            try {
              await scheduler.signal(messagesSignal, messages);
            } catch (error) {
              if (!(error instanceof WorkflowNotFoundError)) throw error;
              // A scheduler that is gone took its leases with it; requests start a new one and wait in it.
              const requests = messages.filter((message) => 'enqueue' in message);
              if (requests.length === 0) return;
              await startScheduler(taskQueue);
              await scheduler.signal(messagesSignal, requests);
            }
          }),
        MAX_MESSAGES_PER_SIGNAL,
      );
      batchers.set(workflowId, batcher);
    }
    return batcher;
  }

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
      await toScheduler(schedulerWorkflowId(Context.current().info.taskQueue)).add({ enqueue: request });
    },

    /**
     * The scheduler is about to continue as new: every worker process's jobs hold their messages
     * to it until the next run lets them go (`resumeMessages`), or for `forMs` at most, and this
     * settles once none is on its way. Temporal refuses a continue-as-new while a signal arrives
     * during the workflow task that asks for it, and the worker then replays the whole run before
     * it can try again; under a steady stream of signals that repeats for minutes.
     */
    async holdMessages({ schedulerWorkflowId, forMs }: { schedulerWorkflowId: string; forMs: number }): Promise<void> {
      await handOver.hold(schedulerWorkflowId, forMs);
    },

    /** The scheduler's next run is up: held messages go to it, from every worker process. */
    async resumeMessages(schedulerWorkflowId: string): Promise<void> {
      await handOver.resume(schedulerWorkflowId);
    },

    /** The scheduler continues as new: its waiting list, for the next run to read back in parts. */
    async storeWaiting(input: { workflowId: string; runId: string; waiting: PackedWaiting }) {
      return carried.store(input);
    },

    /** One part of the waiting list the scheduler's previous run stored, as JSON text. */
    async loadWaitingPart(input: { workflowId: string; runId: string; part: number }): Promise<string> {
      return carried.loadPart(input);
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
     * to record that it arrived; from here it costs neither. Sending twice is harmless: the
     * scheduler ignores a release for a job it no longer holds.
     */
    async releaseCapacity({ schedulerWorkflowId, done }: { schedulerWorkflowId: string; done: JobDone }): Promise<void> {
      await toScheduler(schedulerWorkflowId).add({ done });
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
