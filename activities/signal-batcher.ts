/**
 * Sends items through `send` with at most one call in flight: the first item goes at once, items
 * that arrive meanwhile go together in the next call, at most `maxBatch` per call. Adds no delay
 * when calls are rare and turns a burst into a few calls. Each item's promise settles with the
 * call that carried it.
 */
export function createSignalBatcher<T>(send: (items: T[]) => Promise<void>, maxBatch: number) {
  let pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let sending = false;
  let heldUntil = 0;
  let holdTimer: ReturnType<typeof setTimeout> | undefined;
  let whenIdle: (() => void)[] = [];

  async function pump(): Promise<void> {
    if (sending || pending.length === 0 || Date.now() < heldUntil) return;
    sending = true;
    const batch = pending.slice(0, maxBatch);
    pending = pending.slice(maxBatch);
    try {
      await send(batch.map(({ item }) => item));
      for (const { resolve } of batch) resolve();
    } catch (error) {
      for (const { reject } of batch) reject(error);
    } finally {
      sending = false;
      for (const resolve of whenIdle) resolve();
      whenIdle = [];
      void pump();
    }
  }

  function resume(): void {
    clearTimeout(holdTimer);
    heldUntil = 0;
    void pump();
  }

  return {
    add: (item: T): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        void pump();
      }),
    /**
     * Sends nothing more until `resume`, or for `forMs` at most; items keep collecting meanwhile.
     * Settles once no call is in flight.
     */
    hold(forMs: number): Promise<void> {
      clearTimeout(holdTimer);
      heldUntil = Date.now() + forMs;
      holdTimer = setTimeout(resume, forMs);
      return sending ? new Promise<void>((resolve) => whenIdle.push(resolve)) : Promise.resolve();
    },
    resume,
  };
}

export type SignalBatcher<T> = ReturnType<typeof createSignalBatcher<T>>;
