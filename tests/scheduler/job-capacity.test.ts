import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchedulerActivities } from '../../activities/scheduler';
import { repoRoot } from '../../scripts/lib/paths';
import { useTestDatabase } from '../support/db';
import { testDataConverter, uniqueTaskQueue, useTemporal, workflowBundle } from '../support/temporal';
import { until } from '../support/until';
import { heardQuery, proceedSignal } from '../support/workflows/capacity-probe';
import { jobWorkflowId } from '../../workflows/definitions';
import { grantSignal, schedulerTaskQueue, schedulerWorkflowId } from '../../workflows/scheduler/api';
import type { Grant } from '../../workflows/scheduler/core';
import { getPrisma } from '../../server/db/client';
import type { PrismaClient } from '../../server/generated/prisma/client';
import { workerTuning } from '../../server/temporal/worker-options';
import { ensureScheduler } from '../../server/temporal/scheduler';

const temporal = useTemporal();
const db = useTestDatabase({ seed: true });
let prisma: PrismaClient;

beforeAll(() => {
  prisma = getPrisma({ DATABASE_URL: db.url, DATABASE_POOL_SIZE: 2 });
});
afterAll(async () => {
  await prisma?.$disconnect();
});

const probeBundle = () => workflowBundle(path.join(repoRoot, 'tests/support/workflows/capacity-probe.ts'));

async function probeWorker(taskQueue: string): Promise<Worker> {
  return Worker.create({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    dataConverter: testDataConverter,
    taskQueue,
    workflowBundle: await probeBundle(),
    activities: createSchedulerActivities({
      temporal: temporal.client,
      prisma,
      startScheduler: (queue) => ensureScheduler(temporal.client, prisma, queue),
    }),
    ...workerTuning,
  });
}

describe('a job’s side of the scheduler', () => {
  // The scheduler sends grants at least once: a workflow task retried after its messages went out
  // sends them again. A late copy of a grant the job gave back must not start its next attempt.
  it('ignores a copy of a grant it already released, and takes the next one', async () => {
    const taskQueue = uniqueTaskQueue('capacity');
    const worker = await probeWorker(taskQueue);
    const jobId = `probe-${taskQueue}`;
    const grant = (backendId: string, grantedAt: number): Grant => ({
      jobId,
      leaseId: jobId,
      backendId,
      pool: 'local',
      kind: 'ollama',
      model: 'm',
      route: 'preferred',
      waitedMs: 0,
      grantedAt,
    });
    await worker.runUntil(async () => {
      const scheduler = await temporal.client.workflow.start('standInScheduler', { taskQueue, workflowId: schedulerWorkflowId(taskQueue) });
      const probe = await temporal.client.workflow.start('capacityProbe', {
        taskQueue,
        workflowId: jobWorkflowId(jobId),
        args: [jobId],
      });
      const heard = () => scheduler.query(heardQuery);
      try {
        await until(async () => (await heard()).enqueues === 1, 'the first request');
        const first = grant('ollama@a', 1_000);
        await probe.signal(grantSignal, first);
        await until(async () => (await heard()).dones === 1, 'the failed attempt’s release');

        await probe.signal(proceedSignal);
        await until(async () => (await heard()).enqueues === 2, 'the second request');
        await probe.signal(grantSignal, first);
        // Taken for the new grant, the copy would end the probe at once.
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect((await probe.describe()).status.name).toBe('RUNNING');

        await probe.signal(grantSignal, grant('ollama@b', 2_000));
        const taken = (await probe.result()) as Grant[];
        expect(taken.map((g) => [g.backendId, g.grantedAt])).toEqual([
          ['ollama@a', 1_000],
          ['ollama@b', 2_000],
        ]);
        expect((await heard()).dones).toBe(2);
        // Asked and released through local activities: the job's own history holds no signal to the scheduler.
        const events = (await probe.fetchHistory()).events ?? [];
        expect(events.filter((event) => event.signalExternalWorkflowExecutionInitiatedEventAttributes)).toEqual([]);
      } finally {
        await scheduler.terminate('test over').catch(() => undefined);
        await probe.terminate('test over').catch(() => undefined);
      }
    });
  }, 60_000);

  it('starts a scheduler that is not running and waits in it', async () => {
    const taskQueue = uniqueTaskQueue('capacity-start');
    const worker = await probeWorker(taskQueue);
    const jobId = `probe-${taskQueue}`;
    await worker.runUntil(async () => {
      const probe = await temporal.client.workflow.start('capacityProbe', {
        taskQueue,
        workflowId: jobWorkflowId(jobId),
        args: [jobId],
      });
      const scheduler = temporal.client.workflow.getHandle(schedulerWorkflowId(taskQueue));
      try {
        // This worker does not run the scheduler's code: its history shows it started, set up
        // from the database, with the job's request in it.
        const history = await until(async () => {
          const events = (await scheduler.fetchHistory().catch(() => null))?.events ?? [];
          return events.some((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'messages') && events;
        }, 'the request to reach a started scheduler');
        const started = history[0]?.workflowExecutionStartedEventAttributes;
        expect(started?.workflowType?.name).toBe('schedulerWorkflow');
        expect(started?.taskQueue?.name).toBe(schedulerTaskQueue(taskQueue));
        expect(history.map((event) => event.workflowExecutionSignaledEventAttributes?.signalName).filter(Boolean)).toEqual([
          'configure',
          'messages',
        ]);
        expect((await probe.describe()).status.name).toBe('RUNNING');
      } finally {
        await scheduler.terminate('test over').catch(() => undefined);
        await probe.terminate('test over').catch(() => undefined);
      }
    });
  }, 60_000);
});
