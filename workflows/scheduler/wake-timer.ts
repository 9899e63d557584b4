import { CancellationScope, isCancellation, sleep } from '@temporalio/workflow';

/**
 * One pending timer for "wake me by then": asking again for a time no earlier than the pending
 * one keeps it, so a workflow that wakes on every signal does not start and cancel a timer (two
 * history events and a server timer task) each time. A timer that rings early is harmless — the
 * caller just looks at its state and asks again.
 */
export class WakeTimer {
  private at = Number.POSITIVE_INFINITY;
  private scope: CancellationScope | null = null;
  private ringing = false;

  /** Arranges a wake-up no later than `at` (epoch ms, workflow time); Infinity asks for none. */
  wakeBy(at: number): void {
    if (at >= this.at) return;
    this.scope?.cancel();
    const scope = new CancellationScope();
    this.scope = scope;
    this.at = at;
    scope
      .run(() => sleep(Math.max(1, at - Date.now())))
      .then(
        () => {
          if (this.scope !== scope) return;
          this.scope = null;
          this.at = Number.POSITIVE_INFINITY;
          this.ringing = true;
        },
        (error: unknown) => {
          if (!isCancellation(error)) throw error;
        },
      );
  }

  /** Whether the timer rang since the last `acknowledge`. */
  get rang(): boolean {
    return this.ringing;
  }

  acknowledge(): void {
    this.ringing = false;
  }
}
