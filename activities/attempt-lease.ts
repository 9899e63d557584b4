import { Context } from '@temporalio/activity';
import { ActivityCancelledError, ActivityNotFoundError, ActivityPausedError, ActivityResetError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

/**
 * An activity attempt's hold on its grant, so that one grant never has two live model requests.
 *
 * Temporal starts another attempt once it has heard no heartbeat for the heartbeat timeout, even
 * when this attempt is alive and merely cut off from the server (a paused or restarting server, a
 * partitioned worker), and the new attempt may run in this process or another. The SDK's own
 * heartbeats are fire-and-forget, so an attempt cannot tell from them that it was cut off. Hence
 * the lease: the attempt also heartbeats through a client and awaits each answer. An acknowledged
 * heartbeat holds the grant until `timeout - margin` after it was *sent* (the server's timer
 * restarted no earlier than that); when that runs out without a newer acknowledgement, or the
 * server says the attempt is gone, `signal` aborts — before the server can time the attempt out,
 * and so before a retry can exist (the retry also waits out its backoff). Nothing may be sent to
 * the backend before the first acknowledgement (`ready`): the attempt may have been dispatched
 * long before this worker saw it.
 *
 * Within one process the rule is kept without timing: an attempt of the same activity waits,
 * before its first heartbeat, until the previous attempt here has aborted and ended (a stalled
 * event loop can outlast the margin).
 */

/** Heartbeats by task token, answered (a Temporal client's `activity`). */
export interface LeaseClient {
  heartbeat(taskToken: Uint8Array, details: unknown): Promise<void>;
}

export interface LeaseOptions {
  client: LeaseClient;
  taskToken: Uint8Array;
  /** The activity's heartbeat timeout. */
  timeoutMs: number;
  /** The activity across its attempts (e.g. its job or review item and activity id): one live attempt per key in a process. */
  key: string;
  /** The checkpoint each heartbeat carries (the same details as the SDK's heartbeats). */
  details: () => unknown;
}

export interface AttemptLease {
  /** Aborts when the lease is lost; its reason is a retryable `AttemptLost` failure. */
  readonly signal: AbortSignal;
  /** Resolves on the first acknowledged heartbeat; rejects if the lease is lost first. */
  ready(): Promise<void>;
  /** Stops heartbeating; the next attempt of the same activity in this process may go ahead. */
  end(): void;
}

/** Heartbeats per timeout: three may go unanswered before the lease runs out. */
const BEATS_PER_TIMEOUT = 4;
/** Of the timeout, the part kept back for the abort to reach the backend. */
const MARGIN_SHARE = 0.2;

/** The live attempt of each activity in this process. */
const live = new Map<string, { abort: AbortController; ended: Promise<void> }>();

export async function holdLease(options: LeaseOptions): Promise<AttemptLease> {
  const { client, taskToken, timeoutMs, key, details } = options;
  const abort = new AbortController();
  let markEnded!: () => void;
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  const previous = live.get(key);
  live.set(key, { abort, ended });
  if (previous) {
    previous.abort.abort(lost('a newer attempt of this activity started in this worker'));
    await previous.ended;
  }

  const holdMs = timeoutMs * (1 - MARGIN_SHARE);
  const expired = `no heartbeat reached Temporal within ${holdMs} ms`;
  const lose = (why: string) => {
    if (!abort.signal.aborted) abort.abort(lost(why));
  };
  let expiry: NodeJS.Timeout | undefined;
  let stopped = false;
  const holdUntil = (at: number) => {
    if (stopped) return;
    clearTimeout(expiry);
    const left = at - performance.now();
    if (left <= 0) lose(expired);
    else expiry = setTimeout(() => lose(expired), left);
  };
  let acknowledged!: () => void;
  const firstAck = new Promise<void>((resolve) => (acknowledged = resolve));
  const abandoned = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason as Error)));
  abandoned.catch(() => undefined);
  let inFlight = false;
  const beat = async () => {
    if (inFlight || abort.signal.aborted) return;
    inFlight = true;
    const sentAt = performance.now();
    try {
      await client.heartbeat(taskToken, details());
      holdUntil(sentAt + holdMs);
      acknowledged();
    } catch (error) {
      if (error instanceof ActivityNotFoundError) lose('Temporal no longer knows this attempt (timed out, or its workflow closed)');
      // The server recorded the heartbeat all the same; the SDK's own heartbeats deliver a cancellation.
      else if (error instanceof ActivityCancelledError || error instanceof ActivityPausedError || error instanceof ActivityResetError) {
        holdUntil(sentAt + holdMs);
        acknowledged();
      }
      // Anything else (the server unreachable) is no acknowledgement.
    } finally {
      inFlight = false;
    }
  };
  // Until the first acknowledgement the lease runs from now: nothing was sent to the backend yet.
  holdUntil(performance.now() + holdMs);
  void beat();
  const beats = setInterval(() => void beat(), timeoutMs / BEATS_PER_TIMEOUT);
  const stop = () => {
    stopped = true;
    clearInterval(beats);
    clearTimeout(expiry);
  };
  abort.signal.addEventListener('abort', stop);

  return {
    signal: abort.signal,
    ready: () => Promise.race([firstAck, abandoned]),
    end() {
      stop();
      if (live.get(key)?.abort === abort) live.delete(key);
      markEnded();
    },
  };
}

/**
 * The running attempt's lease on the grant of `holder` (a job, or a review's item: whatever the
 * scheduler granted the slot to), for as long as its heartbeat timeout allows: one live attempt per
 * activity of the holder. An activity without a heartbeat timeout cannot hold one.
 */
export function holdCurrentLease(client: LeaseClient, holder: string, details: () => unknown = () => undefined): Promise<AttemptLease> {
  const { taskToken, heartbeatTimeoutMs, activityId, activityType } = Context.current().info;
  if (!heartbeatTimeoutMs) throw ApplicationFailure.nonRetryable(`${activityType} needs a heartbeat timeout: its lease is held by heartbeats`, 'InvalidJob');
  return holdLease({ client, taskToken, timeoutMs: heartbeatTimeoutMs, key: `${holder}/${activityId}`, details });
}

function lost(why: string): ApplicationFailure {
  return ApplicationFailure.retryable(`attempt abandoned: ${why}`, 'AttemptLost');
}
