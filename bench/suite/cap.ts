import { setMaxListeners } from 'node:events';

/** A scenario's time cap: a signal that fires at `deadline` (performance.now() time). */
export interface Cap {
  signal: AbortSignal;
  /** The error recorded for work cut off by it: the scenario's own cap, or the run's time budget. */
  timeoutLabel: string;
  deadline: number;
  /** The time left, never below 1 ms (a timeout of 0 would mean "none" to some APIs). */
  remainingMs(): number;
  dispose(): void;
}

export function startCap(ms: number, cause: 'scenario cap' | 'run time budget' = 'scenario cap'): Cap {
  const controller = new AbortController();
  // Every simulated user waits on it: thousands of listeners are the design, not a leak.
  setMaxListeners(0, controller.signal);
  const deadline = performance.now() + ms;
  const timer = setTimeout(() => controller.abort(new Error(`${cause} of ${Math.round(ms / 1000)} s reached`)), ms);
  return {
    signal: controller.signal,
    timeoutLabel: `timeout (${cause})`,
    deadline,
    remainingMs: () => Math.max(1, deadline - performance.now()),
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
