import { BackendError } from './errors';

/**
 * How long an answer that has begun may fall silent. A backend that sent its headers (Ollama sends
 * them with the first part, after any model load) and then nothing — a hung runner, a half-open
 * connection behind a partition — would otherwise hold the call, its slot and its job until the
 * activity's start-to-close limit: the activity's own heartbeats go on regardless. Models stream
 * several parts a second, so half a minute of silence is a dead stream.
 */
export const DEFAULT_STREAM_IDLE_MS = 30_000;

/**
 * How often a call that has no answer yet checks that its server still answers at all. Silence
 * before the answer is no evidence (Ollama says nothing while it loads a model, minutes for a large
 * one); a server that no longer answers a cheap call to it is. Without the check a request sent
 * into a partition waits for the HTTP client's five-minute headers timeout.
 */
export const DEFAULT_LIVENESS_PROBE_MS = 10_000;
/** Probes that must fail in a row: one slow answer from a busy server is not a dead one. */
const PROBE_FAILURES = 2;

export interface StallGuard {
  /** The caller's signal, also aborted when the call is given up: give it to the request. */
  signal: AbortSignal;
  /**
   * Until the answer begins, runs `probe` (a cheap call to the same server, bounded in time)
   * every `everyMs`; failing twice in a row gives the call up as unavailable.
   */
  probeUntilAnswer(probe: () => Promise<unknown>, everyMs: number): void;
  /** The answer began, or a part arrived: the silence bound starts again. */
  alive(): void;
  /** Why the call was given up (retryable: another attempt or backend can answer), if it was. */
  stalled(): BackendError | undefined;
  dispose(): void;
}

export function stallGuard(signal: AbortSignal, idleMs: number): StallGuard {
  const controller = new AbortController();
  let idleTimer: NodeJS.Timeout | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  let answered = false;
  const giveUp = (error: BackendError) => {
    if (!controller.signal.aborted) controller.abort(error);
  };
  const stopProbing = () => {
    answered = true;
    clearTimeout(probeTimer);
  };
  return {
    signal: AbortSignal.any([signal, controller.signal]),
    probeUntilAnswer(probe, everyMs) {
      let failures = 0;
      const check = async () => {
        const ok = await probe().then(
          () => true,
          () => false,
        );
        if (answered || controller.signal.aborted) return;
        failures = ok ? 0 : failures + 1;
        if (failures >= PROBE_FAILURES) {
          giveUp(new BackendError('unavailable', `The backend stopped answering (${PROBE_FAILURES} probes failed) while the request waited for its answer.`));
        } else probeTimer = setTimeout(() => void check(), everyMs);
      };
      probeTimer = setTimeout(() => void check(), everyMs);
    },
    alive() {
      stopProbing();
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => giveUp(new BackendError('timeout', `The backend sent nothing for ${idleMs / 1000} s in the middle of its answer.`)), idleMs);
    },
    stalled: () => (controller.signal.aborted ? (controller.signal.reason as BackendError) : undefined),
    dispose() {
      stopProbing();
      clearTimeout(idleTimer);
    },
  };
}
