import type { WorkerOptionsWithDefaults } from '@temporalio/worker/lib/worker-options';

/**
 * Worker settings that are ours rather than the SDK's defaults, shared by the worker process and
 * the tests' workers so that both run workflows the same way.
 */
export const workerTuning = {
  // Cancellation reaches an activity only through a heartbeat; keep that under a second.
  maxHeartbeatThrottleInterval: '500 milliseconds',
  /**
   * The wall-clock limit on one call into the workflow sandbox (an activation, a query). The SDK's
   * 5 s default is meant to fail a stuck workflow task, but on Node 20 with SDK 1.24 reaching it
   * kills the whole worker process: the sandbox runs with `microtaskMode: 'afterEvaluate'`, and a
   * timeout that interrupts a promise job inside an async context (every CancellationScope is an
   * AsyncLocalStorage run) leaves Node's async-hook stack unbalanced, so the next message to the
   * workflow thread aborts with "async hook stack has become corrupted" (nodejs/node#38503,
   * #43135; reproduced with SDK 1.24: a 2 s activation inside CancellationScope.cancellable under
   * a 100 ms limit aborts the process). It is wall-clock time, and on a starved machine (two
   * cores at load 12–16 in the benchmark at 5,000 users) an activation that needs a fraction of a
   * second of CPU can take several seconds. So the limit is only a last resort against a workflow
   * stuck in a loop: far above any real activation, and above the workflow task timeout (10 s),
   * past which the server has handed the task to another attempt anyway. The SDK reads it from the
   * options although its public type leaves it out ("not exposed at the moment").
   */
  isolateExecutionTimeout: '60 seconds',
} satisfies Partial<WorkerOptionsWithDefaults>;
