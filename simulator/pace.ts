/** Below this, tokens due in the same tick go out in one write instead of one timer each. */
const minTickMs = 10;

/**
 * Emits token indices [0, stopAt) at one token per intervalMs, batching what is due at each
 * tick into one emit call. Resolves with the number emitted; stops at once when signal aborts.
 */
export function pace(stopAt: number, intervalMs: number, signal: AbortSignal, emit: (from: number, to: number) => void): Promise<number> {
  return new Promise((resolve) => {
    const start = performance.now();
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve(sent);
    };
    const tick = () => {
      const elapsed = performance.now() - start;
      const due = Math.min(stopAt, Math.floor(elapsed / intervalMs) + 1);
      if (due > sent) {
        emit(sent, due);
        sent = due;
      }
      if (sent >= stopAt || signal.aborted) return finish();
      timer = setTimeout(tick, Math.max(minTickMs, sent * intervalMs - elapsed));
    };
    if (signal.aborted || stopAt <= 0) return finish();
    signal.addEventListener('abort', finish, { once: true });
    tick();
  });
}
