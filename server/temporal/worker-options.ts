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

/**
 * Node flags the worker process is started with (scripts/lib/stack.ts through NODE_OPTIONS,
 * docker/compose.yaml on its command line). V8 gives each of the process's three isolates (the
 * main thread, the jobs' and the scheduler's workflow threads) a young generation of two
 * semi-spaces of up to 16 MB at a 4 GB heap limit, filled between scavenges and kept resident.
 * At 2 MB, with 5,000 jobs waiting: peak RSS 522 MB against 702, settled 486 against 587, worker
 * CPU per job within the machine's noise (bench/README.md, "Worker memory").
 */
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=2'];
