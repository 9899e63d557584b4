import { QueryNotRegisteredError } from '@temporalio/client';
import type { Stack } from '../../scripts/lib/stack';

/** What the benchmarks that hold a backlog behind blocked slots share (bench/scheduler.ts, bench/worker-memory.ts). */

/**
 * A query to the scheduler, asked again when it cannot be answered yet: while thousands of signals
 * arrive the scheduler's workflow tasks keep the worker busy, and a query waits behind them (a
 * timeout); and a run that has just continued as new registers its queries only once it has read
 * the waiting list handed to it (a query that reaches it before is "not registered").
 */
export async function patiently<T>(query: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await query();
    } catch (error) {
      const why = transient(error);
      if (!why || attempt >= 10) throw error;
      console.log(`  a scheduler query ${why} (attempt ${attempt}); asking again`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

function transient(error: unknown): string | null {
  if (error instanceof QueryNotRegisteredError) return 'reached a run still reading its waiting list';
  if (!(error instanceof Error)) return null;
  return /DEADLINE_EXCEEDED|timed out/i.test(`${error.message} ${String(error.cause)}`) ? 'timed out' : null;
}

export async function setSlowdown(target: Stack, slowdownFactor: number): Promise<void> {
  for (const url of target.ollamaUrls) {
    const response = await fetch(`${url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ slowdownFactor }) });
    if (!response.ok) throw new Error(`${url}/_sim/faults answered ${response.status}`);
  }
}

/** Runs `run(0..count-1)`, `concurrency` at a time; after a failure starts nothing new and lets the rest settle before throwing. */
export async function inPool(count: number, concurrency: number, run: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count && !failed) {
        await run(next++).catch((error: unknown) => {
          failed = true;
          throw error;
        });
      }
    }),
  );
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
}

export async function until(probe: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
