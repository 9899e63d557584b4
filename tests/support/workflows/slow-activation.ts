import { CancellationScope, sleep } from '@temporalio/workflow';

/**
 * A workflow whose second activation holds the workflow thread for `blockMs` inside a
 * cancellation scope — what a starved machine does to a real activation. It blocks without using
 * CPU (Atomics.wait), so the test measures the worker's time limit, not the machine.
 */
export async function slowActivation(blockMs: number): Promise<string> {
  await sleep(1);
  await CancellationScope.cancellable(async () => {
    await Promise.resolve();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, blockMs);
  });
  return 'finished';
}
