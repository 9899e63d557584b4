/**
 * Sends items through `send` with at most one call in flight: the first item goes at once, items
 * that arrive meanwhile go together in the next call, at most `maxBatch` per call. Adds no delay
 * when calls are rare and turns a burst into a few calls. Each item's promise settles with the
 * call that carried it.
 */
export function createSignalBatcher<T>(send: (items: T[]) => Promise<void>, maxBatch: number) {
  let pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let sending = false;

  async function pump(): Promise<void> {
    if (sending || pending.length === 0) return;
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
      void pump();
    }
  }

  return {
    add: (item: T): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        void pump();
      }),
  };
}

export type SignalBatcher<T> = ReturnType<typeof createSignalBatcher<T>>;
