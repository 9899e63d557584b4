import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../scripts/lib/paths';
import { uniqueTaskQueue, useTemporal, workflowBundle } from '../scripts/testing/temporal';
import { until } from '../scripts/testing/until';
import { heardQuery, proceedSignal } from '../scripts/testing/workflows/capacity-probe';
import { jobWorkflowId } from '../workflows/definitions';
import { grantSignal, schedulerWorkflowId } from '../workflows/scheduler-api';
import type { Grant } from '../workflows/scheduler';
import { workerTuning } from './temporal/worker-options';

const temporal = useTemporal();

describe('a job’s side of the scheduler', () => {
  // The scheduler sends grants at least once: a workflow task retried after its messages went out
  // sends them again. A late copy of a grant the job gave back must not start its next attempt.
  it('ignores a copy of a grant it already released, and takes the next one', async () => {
    const taskQueue = uniqueTaskQueue('capacity');
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(path.join(repoRoot, 'scripts/testing/workflows/capacity-probe.ts')),
      ...workerTuning,
    });
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
      const probe = await temporal.client.workflow.start('capacityProbe', { taskQueue, workflowId: jobWorkflowId(jobId), args: [jobId] });
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
      } finally {
        await scheduler.terminate('test over').catch(() => undefined);
        await probe.terminate('test over').catch(() => undefined);
      }
    });
  }, 60_000);
});
