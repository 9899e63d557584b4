import type { PoolQueueView } from '../../workflows/scheduler/core';

/**
 * A pool's load at one moment, for the queue view's charts. Kept by each web process (a bounded
 * window, see `appendSample`) so a page opened now shows the last minutes, and extended in the
 * browser from the live `queue:pool` events. Pure: imported by the server and the browser alike.
 */
export interface PoolSample {
  at: number;
  waiting: number;
  running: number;
  backends: { id: string; running: number; slots: number }[];
}

export type PoolHistory = Record<string, PoolSample[]>;

export const SAMPLE_EVERY_MS = 2_000;
export const HISTORY_WINDOW_MS = 10 * 60_000;

export function toSample(pool: PoolQueueView, at: number): PoolSample {
  return {
    at,
    waiting: pool.waiting,
    running: pool.running,
    backends: pool.backends.map(({ id, running, slots }) => ({ id, running, slots })),
  };
}

/**
 * Appends `sample` unless one was taken less than `everyMs` before it (or it is older than the
 * last), and drops samples older than the window: at most window / everyMs samples per pool.
 */
export function appendSample(
  samples: readonly PoolSample[],
  sample: PoolSample,
  { everyMs = SAMPLE_EVERY_MS, windowMs = HISTORY_WINDOW_MS }: { everyMs?: number; windowMs?: number } = {},
): PoolSample[] {
  const last = samples.at(-1);
  if (last && sample.at - last.at < everyMs) return samples as PoolSample[];
  const from = sample.at - windowMs;
  const kept = samples.filter((s) => s.at >= from);
  kept.push(sample);
  return kept;
}
