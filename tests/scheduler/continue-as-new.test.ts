import { describe, expect, it } from 'vitest';
import { recordHistory } from '../support/histories';
import { useJobStack } from '../support/job-stack';
import { testPayloadCodec } from '../support/temporal';
import { until } from '../support/until';
import { defaultPayloadConverter } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createSchedulerActivities } from '../../activities/scheduler';
import { temporal as temporalProto } from '@temporalio/proto';
import { schedulerTaskQueue, schedulerWorkflowId, statusQuery, type SchedulerInput } from '../../workflows/scheduler/api';

/**
 * The scheduler continuing as new every few dozen events while jobs keep arriving and finishing on
 * three worker processes' workers: no job is lost from run to run, and every worker's messages to
 * the scheduler wait for the next run instead of making the server refuse the hand-over (each
 * refusal costs a replay of the whole run).
 */

/** A run's input as its workers sealed it into the history. */
async function runInput(workflowId: string, runId?: string): Promise<SchedulerInput> {
  const events = (await temporal.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  const [input] = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  return defaultPayloadConverter.fromPayload((await testPayloadCodec.decode([input!]))[0]!) as SchedulerInput;
}

const { temporal, stack } = useJobStack({
  simulators: [{ slots: 2, tokensPerSecond: 400, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 20 }],
  slots: 2,
  schedulerHistoryLimit: 40,
});

describe('the scheduler continuing as new', () => {
  it('hands a steady stream of jobs from run to run on several workers and completes every one of them, leaking no slot', async () => {
    // Two more worker processes' workers: each signals the scheduler through its own batcher.
    await stack.addWorkers();
    await stack.addWorkers();
    // One user submits the whole stream: lift the tier's queue cap (10) above it.
    await stack.prisma.tier.update({ where: { name: 'premium' }, data: { maxQueuedPerUser: 100 } });
    await stack.configureScheduler();
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
    // A fourth process's batcher adds a steady stream of releases for jobs the scheduler does not
    // hold (it ignores them): signals arrive all the time, also while it hands over.
    const fourth = createSchedulerActivities({ temporal: temporal.client, prisma: stack.prisma, startScheduler: stack.configureScheduler });
    const workflowId = schedulerWorkflowId(stack.taskQueue);
    let streaming = true;
    let streamed = 0;
    const stream = Promise.all(
      Array.from({ length: 4 }, async (_, lane) => {
        const activity = new MockActivityEnvironment({ taskQueue: stack.taskQueue });
        while (streaming) {
          await activity.run(fourth.releaseCapacity, { schedulerWorkflowId: workflowId, done: { jobId: `stream-${lane}-${streamed++}`, ok: true } });
        }
      }),
    );
    // Waves of jobs a little apart: requests and releases reach the scheduler from every worker.
    const ids: string[] = [];
    // The stream stops however this ends: left running, it would load the tests after this one.
    try {
      for (let wave = 0; wave < 12; wave++) {
        const jobs = await Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            demo.caller.jobs.submit({ projectId: project.id, requirements: `continued ${wave}.${i}`, clientKey: `continued-${wave}-${i}`, priority: 'normal' }),
          ),
        );
        ids.push(...jobs.map((job) => job.id));
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // A deadline, not a speed: 60 jobs take about 40 s alone and stretched past 150 s on a busy machine.
      await until(
        async () => (await stack.prisma.job.count({ where: { id: { in: ids }, status: 'completed' } })) === ids.length,
        'every job to complete',
        360_000,
      );
    } finally {
      streaming = false;
      await stream;
    }
    expect(streamed).toBeGreaterThan(100);

    const runs = [];
    for await (const run of temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const status = await temporal.client.workflow.getHandle(workflowId).query(statusQuery);
    expect(status.waiting).toBe(0);
    expect(status.leases).toEqual([]);
    const held = [];
    let refusedHandOvers = 0;
    for (const run of runs) {
      const events = (await temporal.client.workflow.getHandle(workflowId, run.runId).fetchHistory()).events ?? [];
      const { messagesHeld } = await runInput(workflowId, run.runId);
      if (messagesHeld && run.status.name === 'CONTINUED_AS_NEW') held.push(run.runId);
      refusedHandOvers += events.filter(
        (event) => event.workflowTaskFailedEventAttributes?.cause === temporalProto.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
      ).length;
    }
    // The jobs' messages wait while a run hands over: no continue-as-new was refused for a signal.
    expect(held.length).toBeGreaterThan(0);
    expect(refusedHandOvers).toBe(0);
    // The waiting lists crossed in PostgreSQL, and only the one the running run started from is kept.
    const { waiting } = await runInput(workflowId);
    const stored = await stack.prisma.schedulerWaiting.findMany({ where: { workflowId }, select: { runId: true } });
    expect(new Set(stored.map((row) => row.runId))).toEqual(new Set([waiting!.runId]));
    // A run that a hand-over started and that handed over in turn: both ends of one.
    await recordHistory(temporal.client, 'scheduler-hand-over', workflowId, { runId: held[0] });
  }, 480_000);

  it("starts empty when its predecessor's waiting list is not stored, and serves the jobs that ask", async () => {
    const workflowId = schedulerWorkflowId(stack.taskQueue);
    const input = await runInput(workflowId);
    await temporal.client.workflow.getHandle(workflowId).terminate('replaced by a run whose waiting list is gone');
    await stack.prisma.schedulerWaiting.deleteMany({ where: { workflowId } });
    await temporal.client.workflow.start('schedulerWorkflow', {
      workflowId,
      taskQueue: schedulerTaskQueue(stack.taskQueue),
      args: [{ ...input, waiting: { runId: 'run-gone', parts: 2, jobs: 7 }, messagesHeld: false }],
    });
    await until(
      async () => (await temporal.client.workflow.getHandle(workflowId).query(statusQuery).catch(() => null))?.waiting === 0,
      'the new run to answer with an empty queue',
      60_000,
    );

    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
    const job = await demo.caller.jobs.submit({ projectId: project.id, requirements: 'after a lost list', clientKey: 'after-lost-list', priority: 'normal' });
    await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status === 'completed', 'the job to complete', 60_000);
  }, 120_000);

  it('serves on while it cannot store its waiting list, and hands over once it can', async () => {
    const scheduler = temporal.client.workflow.getHandle(schedulerWorkflowId(stack.taskQueue));
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const project = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
    const completed = (id: string) => async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id } })).status === 'completed';
    const stuckRun = (await scheduler.describe()).runId;

    await stack.prisma.$executeRawUnsafe('ALTER TABLE "SchedulerWaiting" RENAME TO "SchedulerWaitingAway"');
    try {
      // Jobs enough for the run to pass its length (40 events here) more than once.
      for (let i = 0; i < 10; i++) {
        const job = await demo.caller.jobs.submit({ projectId: project.id, requirements: `no store ${i}`, clientKey: `no-store-${i}`, priority: 'normal' });
        await until(completed(job.id), `job ${i} to complete while the list cannot be stored`, 60_000);
      }
      const description = await scheduler.describe();
      expect(description.runId).toBe(stuckRun);
      expect(description.historyLength).toBeGreaterThan(80);
    } finally {
      await stack.prisma.$executeRawUnsafe('ALTER TABLE "SchedulerWaitingAway" RENAME TO "SchedulerWaiting"');
    }

    const job = await demo.caller.jobs.submit({ projectId: project.id, requirements: 'stored again', clientKey: 'stored-again', priority: 'normal' });
    await until(completed(job.id), 'the job to complete', 60_000);
    for (let i = 0; (await scheduler.describe()).runId === stuckRun; i++) {
      const more = await demo.caller.jobs.submit({ projectId: project.id, requirements: `until handed over ${i}`, clientKey: `handed-over-${i}`, priority: 'normal' });
      await until(completed(more.id), `job ${i} to complete`, 60_000);
      expect(i).toBeLessThan(20);
    }
  }, 300_000);
});
