import { useCallback, useRef } from 'react';

/**
 * `refresh()` for a page told that something changed: it fetches again, and a fetch it started is
 * never cancelled by a later call. A call while one runs fetches once more after it, so the last
 * change is always seen. Cancelling the fetch under way on every event, as a plain `refetch()`
 * does, starved a page whose server answered more slowly than events came: it never learned that
 * its job was running.
 */
export function useRefresh(refetch: () => Promise<unknown>): () => void {
  const latest = useRef(refetch);
  latest.current = refetch;
  const state = useRef({ running: false, again: false });
  return useCallback(() => {
    const flags = state.current;
    if (flags.running) {
      flags.again = true;
      return;
    }
    flags.running = true;
    void (async () => {
      do {
        flags.again = false;
        await latest.current().catch(() => undefined);
      } while (flags.again);
      flags.running = false;
    })();
  }, []);
}
