import type { PresenceUser } from './events';
import type { IoServer } from './types';

/** How long after a change its room is counted again, and how long after a failed count it retries. */
const SETTLE_MS = 3_000;

/**
 * Who is looking at a project: derived from the sockets in its room across every web process
 * (`fetchSockets` goes through the adapter), so there is no second copy of the truth to keep in
 * sync or to leak when a process dies. Each change sends the room one compact snapshot.
 *
 * A count can be wrong for a moment with several web processes: a process whose event loop stalls
 * past the adapter's heartbeat timeout is left out (or makes the count fail) until it is heard
 * again. So every change is counted once more when things have settled, and a failed count is
 * retried, each after SETTLE_MS; the settling count schedules nothing further.
 */
export function createPresence(io: IoServer, { onError }: { onError?: (error: unknown) => void } = {}) {
  const inFlight = new Set<string>();
  const dirty = new Set<string>();
  const settling = new Map<string, NodeJS.Timeout>();

  async function publish(projectId: string): Promise<void> {
    const room = `project:${projectId}`;
    const sockets = await io.in(room).fetchSockets();
    const users = new Map<string, PresenceUser>();
    for (const { data } of sockets) {
      if (data.user) users.set(data.user.id, { id: data.user.id, name: data.user.name });
    }
    const list = [...users.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    io.to(room).emit('presence', { projectId, users: list });
  }

  function settleLater(projectId: string, retry: boolean): void {
    if (settling.has(projectId)) return;
    const timer = setTimeout(() => {
      settling.delete(projectId);
      count(projectId, retry);
    }, SETTLE_MS);
    timer.unref();
    settling.set(projectId, timer);
  }

  /** Coalesces bursts (a page load joins, a reconnect storm): at most one fetch per room at a time, plus one after it. */
  function count(projectId: string, settle: boolean): void {
    if (inFlight.has(projectId)) {
      dirty.add(projectId);
      return;
    }
    inFlight.add(projectId);
    publish(projectId)
      .then(
        () => settle && settleLater(projectId, false),
        (error: unknown) => {
          onError?.(error);
          settleLater(projectId, true);
        },
      )
      .finally(() => {
        inFlight.delete(projectId);
        if (dirty.delete(projectId)) count(projectId, true);
      });
  }

  return {
    changed: (projectId: string) => count(projectId, true),
    stop: () => {
      for (const timer of settling.values()) clearTimeout(timer);
      settling.clear();
    },
  };
}
