import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/lib/paths';
import { testDataConverter, uniqueTaskQueue, useTemporal, workflowBundle } from '../support/temporal';
import { workerTuning } from '../../server/temporal/worker-options';

const temporal = useTemporal();

describe('worker tuning', () => {
  // With the SDK's 5 s limit this activation would abort the whole test process (Node's
  // "async hook stack has become corrupted", see worker-options.ts); with ours it just completes.
  it('lets an activation that holds the workflow thread past the SDK default of 5 s finish, and the worker live on', async () => {
    const taskQueue = uniqueTaskQueue('slow-activation');
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      dataConverter: testDataConverter,
      taskQueue,
      workflowBundle: await workflowBundle(path.join(repoRoot, 'tests/support/workflows/slow-activation.ts')),
      ...workerTuning,
    });
    const result = await worker.runUntil(
      temporal.client.workflow.execute('slowActivation', {
        taskQueue,
        workflowId: taskQueue,
        args: [6_000],
        // Longer than the block, so the server waits for this attempt instead of starting another.
        workflowTaskTimeout: '30 seconds',
      }),
    );
    expect(result).toBe('finished');
    expect(worker.getState()).toBe('STOPPED');
  }, 60_000);
});
