import { setMaxListeners } from 'node:events';

/**
 * A scenario's time cap: a signal that fires at `deadline` (performance.now() time), or earlier
 * when the scenario is stopped because it cannot go on (a process of the stack died).
 */
export interface Cap {
  signal: AbortSignal;
  /**
   * The error recorded for work cut off by it: the scenario's own cap or the run's time budget,
   * or what stopped it early. Read it when the work is cut off, not before.
   */
  readonly cutOffLabel: string;
  /** Why `stop` ended the scenario early, if it did. */
  readonly stopReason: string | undefined;
  deadline: number;
  /** The time left, never below 1 ms (a timeout of 0 would mean "none" to some APIs). */
  remainingMs(): number;
  /** Ends the scenario now; work still under way is cut off with `reason` as its error. */
  stop(reason: string): void;
  dispose(): void;
}

export function startCap(ms: number, cause: 'scenario cap' | 'run time budget' = 'scenario cap'): Cap {
  const controller = new AbortController();
  // Every simulated user waits on it: thousands of listeners are the design, not a leak.
  setMaxListeners(0, controller.signal);
  const deadline = performance.now() + ms;
  let stopReason: string | undefined;
  const timer = setTimeout(() => controller.abort(new Error(`${cause} of ${Math.round(ms / 1000)} s reached`)), ms);
  return {
    signal: controller.signal,
    get cutOffLabel() {
      return stopReason ?? `timeout (${cause})`;
    },
    get stopReason() {
      return stopReason;
    },
    deadline,
    remainingMs: () => Math.max(1, deadline - performance.now()),
    stop(reason) {
      if (controller.signal.aborted) return;
      stopReason = reason;
      clearTimeout(timer);
      controller.abort(new Error(reason));
    },
    dispose: () => clearTimeout(timer),
  };
}

/** Waits until `at` (performance.now() time), or less if the cap fires first. */
export function sleepUntil(at: number, cap: AbortSignal): Promise<void> {
  const ms = at - performance.now();
  if (ms <= 0 || cap.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      cap.removeEventListener('abort', done);
      resolve();
    }
    cap.addEventListener('abort', done, { once: true });
  });
}
