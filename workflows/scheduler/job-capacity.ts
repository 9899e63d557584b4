import { ApplicationFailure, CancellationScope, condition, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { Grant } from './core';
import { grantSignal, refusedSignal, schedulerWorkflowId, type CapacityRequest } from './api';

/**
 * Re-asking is a last resort for a queue entry or grant lost on the scheduler's side: the first
 * re-ask after about ten minutes, then twice as long each time up to an hour, each spread by
 * ±25 % by a hash of the job id (the same on replay). Thousands of jobs submitted in one burst
 * otherwise re-ask in one burst too, and their workflow tasks queue ahead of the grants that keep
 * slots busy.
 */
const REASK_FIRST_MS = 10 * 60_000;
const REASK_MAX_MS = 60 * 60_000;
const REASK_SPREAD = 0.25;

/** A value in [0, 1) that `key` always maps to (32-bit FNV-1a). */
export function unitHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) / 2 ** 32;
}

/** The wait before re-ask number `reasks` (0 = the first), spread by `random` in [0, 1). */
export function reaskDelayMs(reasks: number, random: number): number {
  const base = Math.min(REASK_MAX_MS, REASK_FIRST_MS * 2 ** reasks);
  return Math.round(base * (1 - REASK_SPREAD + 2 * REASK_SPREAD * random));
}

// Asking and releasing run as local activities inside the job's workflow task (see
// activities/scheduler.ts): no history events or workflow task of the job's own for a signal.
// Patient like the job's other bookkeeping: the slot must go back.
const { releaseCapacity, requestCapacity } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds', maximumAttempts: 20 },
});

/**
 * A job's side of the scheduler: ask for a slot, wait for the grant, give it back. Every path
 * out of a job — success, failure, cancellation — ends in `release`, so slots never leak; a job
 * that dies without releasing is found by the scheduler's lease check.
 */
export class Capacity {
  private readonly schedulerWorkflowId = schedulerWorkflowId(workflowInfo().taskQueue);
  private grant: Grant | null = null;
  /**
   * Grants this job already gave back. The scheduler sends grants at least once (a retried
   * workflow task sends its messages again), so a late copy of a released grant must not pass
   * for the next one: the job would run on a backend without holding its lease.
   */
  private readonly released: number[] = [];
  private refusal: string | null = null;
  /** Asked and not yet released: waiting in the queue or holding a lease. */
  private holding = false;
  /** Times asked again since the last request: the next re-ask waits longer. */
  private reasks = 0;

  constructor(private readonly jobId: string) {
    setHandler(grantSignal, (grant) => {
      if (grant.jobId !== jobId || this.released.includes(grant.grantedAt)) return;
      this.grant = grant;
    });
    setHandler(refusedSignal, ({ reason }) => {
      this.refusal = reason;
    });
  }

  async acquire(request: Omit<CapacityRequest, 'jobId' | 'avoid' | 'tier'>, avoid: string[]): Promise<Grant> {
    this.holding = true;
    this.reasks = 0;
    const asking: CapacityRequest = { ...request, tier: request.tierPolicy.name, jobId: this.jobId, avoid };
    await requestCapacity(asking);
    // Asking again is harmless (the scheduler ignores a duplicate and re-sends a grant it already
    // made), and recovers a grant or a queue entry lost on the scheduler's side.
    while (!(await condition(() => this.grant !== null || this.refusal !== null, this.reaskAfter()))) await requestCapacity(asking);
    if (this.refusal) {
      this.holding = false;
      throw ApplicationFailure.nonRetryable(`The scheduler refused the job: ${this.refusal}`, 'InvalidJob');
    }
    return this.grant!;
  }

  private reaskAfter(): number {
    const reasks = this.reasks++;
    return reaskDelayMs(reasks, unitHash(`${this.jobId}:${reasks}`));
  }

  /** Gives the lease back (or leaves the queue); does nothing when nothing is held. */
  async release(outcome: { ok: boolean; serviceMs?: number }): Promise<void> {
    if (!this.holding) return;
    this.holding = false;
    if (this.grant) this.released.push(this.grant.grantedAt);
    this.grant = null;
    // Also when the job itself is being cancelled: the slot must go back.
    await CancellationScope.nonCancellable(() =>
      releaseCapacity({ schedulerWorkflowId: this.schedulerWorkflowId, done: { jobId: this.jobId, ...outcome } }),
    );
  }
}
