import type { WorkerOptionsWithDefaults } from '@temporalio/worker/lib/worker-options';

/**
 * Worker settings that are ours rather than the SDK's defaults, shared by the worker process and
 * the tests' workers so that both run workflows the same way.
 */
export const workerTuning = {
  // Cancellation reaches an activity only through a heartbeat; keep that under a second.
  maxHeartbeatThrottleInterval: '500 milliseconds',
  /**
   * Wall-clock limit on one call into the workflow sandbox. Reaching it inside a CancellationScope
   * aborts the whole worker process on Node 20 with SDK 1.24 ("async hook stack has become
   * corrupted", nodejs/node#38503), and a starved machine stretches ordinary activations to
   * seconds; so it only stops a workflow stuck in a loop, above the 10 s workflow task timeout.
   * Not in the SDK's public type, but read. Why and how it is tested: docs/operations.md, "Worker options".
   */
  isolateExecutionTimeout: '60 seconds',
} satisfies Partial<WorkerOptionsWithDefaults>;
