import { percentile, round } from '../lib/stats';

/**
 * What happened to each user's request, and the figures drawn from it. Times are milliseconds
 * from the scenario's start (performance.now() based).
 */

export interface Outcome {
  arrivedAt: number;
  finishedAt?: number;
  /** Set when the request did not complete: '503 queue full', 'connection refused', 'timeout', … */
  error?: string;
}

export interface OutcomeSummary {
  users: number;
  completed: number;
  completionRate: number;
  errors: Record<string, number>;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** Completed jobs per second, from the first arrival to the last completion. */
  throughputPerSecond: number;
  /** From the first arrival to the last outcome. */
  durationMs: number;
}

export function summarizeOutcomes(outcomes: readonly Outcome[]): OutcomeSummary {
  const done = outcomes.filter((o) => o.finishedAt !== undefined && !o.error);
  const times = done.map((o) => o.finishedAt! - o.arrivedAt);
  const errors: Record<string, number> = {};
  for (const o of outcomes) if (o.error) errors[o.error] = (errors[o.error] ?? 0) + 1;
  const first = Math.min(...outcomes.map((o) => o.arrivedAt));
  const lastDone = Math.max(first, ...done.map((o) => o.finishedAt!));
  const last = Math.max(lastDone, ...outcomes.map((o) => o.finishedAt ?? o.arrivedAt));
  const stat = (p: number) => (times.length ? round(percentile(times, p)) : null);
  return {
    users: outcomes.length,
    completed: done.length,
    completionRate: outcomes.length ? round(done.length / outcomes.length, 4) : 0,
    errors,
    p50Ms: stat(50),
    p95Ms: stat(95),
    p99Ms: stat(99),
    throughputPerSecond: lastDone > first ? round(done.length / ((lastDone - first) / 1000), 2) : 0,
    durationMs: round(last - first),
  };
}

/** p50/p95/p99 of a list of latencies, or nulls when there are none. */
export function latencyStats(values: readonly number[]) {
  const stat = (p: number) => (values.length ? round(percentile(values, p)) : null);
  return { count: values.length, p50Ms: stat(50), p95Ms: stat(95), p99Ms: stat(99) };
}
