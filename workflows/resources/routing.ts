import type { SchedulerState, WaitingJob } from '../scheduler/core';

/**
 * Routing under pressure: while every local pool a tier prefers (a pool with Ollama instances) is
 * pressured — its wait past the resource manager's threshold — waiting jobs of tiers that
 * allow cloud fallback are opened to cloud at once instead of each waiting out its own tier
 * threshold. It uses the core's own switch (`fallbackSince`, sticky), so everything else holds:
 * only tiers with `cloudFallback`, their own pools still first whenever a slot there is free.
 * Mutates the state in place; returns the jobs it opened.
 */
export function applyPressure(state: SchedulerState, pressuredPools: readonly string[], now: number, jobs: readonly WaitingJob[] = state.waiting): string[] {
  if (pressuredPools.length === 0) return [];
  const localPools = new Set(Object.values(state.backends).filter((b) => b.kind === 'ollama').map((b) => b.pool));
  const opened: string[] = [];
  for (const job of jobs) {
    if (job.fallbackSince !== null) continue;
    const tier = state.tiers[job.tier];
    if (!tier?.cloudFallback) continue;
    const local = tier.poolPreference.filter((pool) => localPools.has(pool));
    if (local.length === 0 || !local.every((pool) => pressuredPools.includes(pool))) continue;
    job.fallbackSince = now;
    opened.push(job.jobId);
  }
  return opened;
}
