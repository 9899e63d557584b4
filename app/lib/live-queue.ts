import { useQuery } from '@tanstack/react-query';
import type { inferRouterOutputs } from '@trpc/server';
import { useCallback, useEffect, useState } from 'react';
import type { QueuePoolEvent, QueueTeamEvent } from '../../server/realtime/events';
import { appendSample, toSample, type PoolHistory } from '../../server/realtime/queue-samples';
import type { AppRouter } from '../../server/trpc/root';
import { useTRPC } from './trpc';

export type QueueOverview = inferRouterOutputs<AppRouter>['queue']['get'];

export interface LiveQueue {
  pools: QueuePoolEvent[];
  teams: Record<string, QueueTeamEvent>;
  history: PoolHistory;
}

/** Keeps whichever is newer by the scheduler's version: a late refetch must not undo an event. */
function newer<T extends { version: number }>(held: T | undefined, candidate: T): T {
  return held && held.version > candidate.version ? held : candidate;
}

/**
 * The queue as first fetched (`queue.get`), kept current by `queue:pool` and `queue:team` events.
 * Rooms are joined by the components that render each pool and team (see QueueSubscriptions);
 * after every (re)join they call `refetch`, so nothing said while disconnected is missed.
 */
export function useLiveQueue(initial: QueueOverview | null) {
  const trpc = useTRPC();
  const query = useQuery({
    ...trpc.queue.get.queryOptions(),
    ...(initial ? { initialData: initial } : {}),
    // Only while the scheduler does not answer: events take over once it does.
    refetchInterval: (q) => (q.state.data?.unavailable ? 5_000 : false),
  });
  const [live, setLive] = useState<LiveQueue>(() => fromOverview(initial));

  useEffect(() => {
    const data = query.data;
    if (!data) return;
    setLive((held) => {
      const fetched = fromOverview(data);
      const byName = new Map(held.pools.map((pool) => [pool.pool, pool]));
      return {
        pools: fetched.pools.map((pool) => newer(byName.get(pool.pool), pool)),
        teams: Object.fromEntries(Object.entries(fetched.teams).map(([id, team]) => [id, newer(held.teams[id], team)])),
        history: fetched.history,
      };
    });
  }, [query.data]);

  const onPool = useCallback((event: QueuePoolEvent) => {
    setLive((held) => {
      const index = held.pools.findIndex((pool) => pool.pool === event.pool);
      if (index >= 0 && held.pools[index]!.version > event.version) return held;
      const pools = index >= 0 ? held.pools.map((pool, i) => (i === index ? event : pool)) : [...held.pools, event].sort((a, b) => a.pool.localeCompare(b.pool));
      const history = { ...held.history, [event.pool]: appendSample(held.history[event.pool] ?? [], toSample(event, event.at)) };
      return { ...held, pools, history };
    });
  }, []);

  const onTeam = useCallback((event: QueueTeamEvent) => {
    setLive((held) => {
      if (!(event.teamId in held.teams) || held.teams[event.teamId]!.version > event.version) return held;
      return { ...held, teams: { ...held.teams, [event.teamId]: event } };
    });
  }, []);

  return { query, live, onPool, onTeam, refetch: () => void query.refetch() };
}

function fromOverview(data: QueueOverview | null | undefined): LiveQueue {
  if (!data) return { pools: [], teams: {}, history: {} };
  return {
    pools: data.pools,
    teams: Object.fromEntries(data.teamQueues.map((team) => [team.teamId, team])),
    history: data.history,
  };
}
