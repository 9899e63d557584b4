import type { PresenceUser } from './events';
import type { IoServer } from './types';

/**
 * Who is looking at a project: derived from the sockets in its room across every web process
 * (`fetchSockets` goes through the adapter), so there is no second copy of the truth to keep in
 * sync or to leak when a process dies. Each change sends the room one compact snapshot.
 */
export function createPresence(io: IoServer, { onError }: { onError?: (error: unknown) => void } = {}) {
  const inFlight = new Set<string>();
  const dirty = new Set<string>();

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

  /** Coalesces bursts (a page load joins, a reconnect storm): at most one fetch per room at a time, plus one after it. */
  function changed(projectId: string): void {
    if (inFlight.has(projectId)) {
      dirty.add(projectId);
      return;
    }
    inFlight.add(projectId);
    publish(projectId)
      .catch((error: unknown) => onError?.(error))
      .finally(() => {
        inFlight.delete(projectId);
        if (dirty.delete(projectId)) changed(projectId);
      });
  }

  return { changed };
}
