import type { JobTokensEvent, QueueTeamEvent } from './events';
import type { RelayedEmit } from './relay';

type Listener<E> = (event: E) => void;

/**
 * Live events for listeners inside this web process rather than its sockets: the HTTP API streams
 * a job's tokens to the client that sent it, and tells it its place in the queue. Fed by what
 * reaches the process anyway — workers' relayed emits (relay.ts) and the queue broadcaster's team
 * events (queue-broadcaster.ts, which also runs for teams watched only from here) — so a
 * waiting request costs no workflow query of its own.
 */
export function createLocalFeed() {
  const tokens = new Map<string, Set<Listener<JobTokensEvent>>>();
  const teams = new Map<string, Set<Listener<QueueTeamEvent>>>();
  const watchers = new Set<() => void>();

  function add<E>(map: Map<string, Set<Listener<E>>>, key: string, listener: Listener<E>): () => void {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && map.get(key) === set) map.delete(key);
    };
  }

  return {
    /** A job's token batches as the worker publishes them; returns the unsubscribe. */
    onTokens(jobId: string, listener: Listener<JobTokensEvent>): () => void {
      return add(tokens, jobId, listener);
    },

    /** A team's queue (waiting jobs with positions and ETAs) whenever the scheduler's plan changes. */
    onTeamQueue(teamId: string, listener: Listener<QueueTeamEvent>): () => void {
      const first = !teams.has(teamId);
      const off = add(teams, teamId, listener);
      if (first) for (const wake of watchers) wake();
      return off;
    },

    /** The teams someone here listens to (the broadcaster fetches their part of the snapshot). */
    watchedTeams: (): string[] => [...teams.keys()],
    /** Called when a team gains its first listener. */
    onWatch(wake: () => void): () => void {
      watchers.add(wake);
      return () => void watchers.delete(wake);
    },

    deliverRelay(emits: RelayedEmit[]): void {
      if (tokens.size === 0) return;
      for (const { event, payload } of emits) {
        if (event !== 'job:tokens') continue;
        const batch = payload as JobTokensEvent;
        for (const listener of tokens.get(batch.jobId) ?? []) listener(batch);
      }
    },

    deliverTeamQueue(event: QueueTeamEvent): void {
      for (const listener of teams.get(event.teamId) ?? []) listener(event);
    },
  };
}

export type LocalFeed = ReturnType<typeof createLocalFeed>;
