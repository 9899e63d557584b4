import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  sleep,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import type { Activities } from '../activities';
import { DATABASE_UNAVAILABLE } from './definitions';
import type { GenerateInput, GenerateOutput } from '../activities/types';
import type { Capacity } from './scheduler/job-capacity';
import type { CapacityRequest } from './scheduler/api';
import type { Grant } from './scheduler/core';

/** The steps every kind of job shares: its bookkeeping, and generation on granted capacity. */

// Bookkeeping is a few milliseconds of database work and idempotent: run it as local activities,
// inside the workflow task, which saves a server round trip per step; retry patiently.
export const records = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 20 },
});

// The model call heartbeats with every piece of text; a 5 s heartbeat timeout notices a dead
// worker quickly, and waiting for the cancellation to complete keeps the partial output. One retry
// stays on the granted backend (a worker crash, a cut stream); after that the job is re-queued
// for another backend.
export const model = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '5 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumAttempts: 2,
    nonRetryableErrorTypes: ['InvalidJob', 'BackendRejected'],
  },
});

/** Grants a job may use before it is dead-lettered. */
const MAX_GRANTS = 3;
/**
 * Waits for the database before the same step runs again on the same grant: doubling from 1 s up
 * to 30 s, about nine minutes in all, as long as the bookkeeping's own retries outlast an outage.
 */
const DATABASE_WAITS = 20;
const databaseWaitMs = (waits: number) => Math.min(30_000, 1_000 * 2 ** waits);
/** Failure types that say "this backend", not "this request". */
const RETRY_ELSEWHERE = ['BackendUnavailable', 'GenerationError'];

export interface Generated {
  grant: Grant;
  generated: GenerateOutput;
  serviceMs: number;
}

/**
 * Waits for a grant and runs `work` on it. A backend that fails the work (after its retries on
 * that backend) gives the slot back as failed; the job queues again for another backend.
 * Returns holding the last grant: the caller releases it.
 */
export async function runOnGrant<T>(
  capacity: Capacity,
  request: Omit<CapacityRequest, 'jobId' | 'avoid' | 'tier'>,
  enter: (stage: 'waiting' | 'generating') => void,
  work: (grant: Grant) => Promise<T>,
): Promise<{ grant: Grant; value: T; serviceMs: number }> {
  const avoid: string[] = [];
  for (let grants = 1; ; grants++) {
    enter('waiting');
    const grant = await capacity.acquire(request, avoid);
    enter('generating');
    const started = Date.now();
    for (let waits = 0; ; waits++) {
      try {
        const value = await work(grant);
        return { grant, value, serviceMs: Date.now() - started };
      } catch (error) {
        // Not the backend's fault: keep the grant (its slot stays this job's) and run the step
        // again once the database is back; the retry resumes from the saved output.
        if (databaseUnavailable(error) && waits < DATABASE_WAITS) {
          await sleep(databaseWaitMs(waits));
          continue;
        }
        if (grants >= MAX_GRANTS || !backendFailed(error)) throw error;
        await capacity.release({ ok: false });
        avoid.push(grant.backendId);
        break;
      }
    }
  }
}

/** Generation on granted capacity; a job re-queued for another backend resumes its text. */
export async function generateOnGrant(
  capacity: Capacity,
  request: Omit<CapacityRequest, 'jobId' | 'avoid' | 'tier'>,
  input: Omit<GenerateInput, 'backendId' | 'pool' | 'grantedAt' | 'waitedMs'>,
  enter: (stage: 'waiting' | 'generating') => void,
): Promise<Generated> {
  const { grant, value, serviceMs } = await runOnGrant(capacity, request, enter, (grant) =>
    model.generate({ ...input, backendId: grant.backendId, pool: grant.pool, grantedAt: grant.grantedAt, waitedMs: grant.waitedMs }),
  );
  return { grant, generated: value, serviceMs };
}

/** A job's way out on any error: the slot goes back, and the job's row records how it ended. */
export async function endFailed(capacity: Capacity, jobId: string, error: unknown): Promise<never> {
  await capacity.release({ ok: !backendFailed(error) });
  const status = isCancellation(error) ? 'cancelled' : retriesExhausted(error) ? 'dead_letter' : 'failed';
  // The workflow may itself be cancelled; recording the outcome must still happen.
  await CancellationScope.nonCancellable(() => records.finishJob({ jobId, status, error: status === 'cancelled' ? null : describe(error) }));
  throw error;
}

/** The model call failed for the backend's sake (not the request's) and its retries are spent. */
export function backendFailed(error: unknown): boolean {
  return (
    retriesExhausted(error) &&
    error instanceof ActivityFailure &&
    error.cause instanceof ApplicationFailure &&
    RETRY_ELSEWHERE.includes(error.cause.type ?? '')
  );
}

/** An activity's retries all met an unreachable database (server/db/unavailable.ts). */
export function databaseUnavailable(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === DATABASE_UNAVAILABLE;
}

export function retriesExhausted(error: unknown): boolean {
  return (
    error instanceof ActivityFailure &&
    (error.retryState === RetryState.MAXIMUM_ATTEMPTS_REACHED || error.retryState === RetryState.TIMEOUT)
  );
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}
