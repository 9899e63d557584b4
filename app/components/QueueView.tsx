import type { QueuePoolEvent, QueueTeamEvent } from '../../server/realtime/events';
import { useLiveQueue, type QueueOverview } from '~/lib/live-queue';
import { useRoom } from '~/lib/socket';
import { QueuePool } from './QueuePool';

/** Joins one room for the queue view; a component per room because `useRoom` holds one. */
function PoolRoom({ pool, onPool, onSync }: { pool: string; onPool: (e: QueuePoolEvent) => void; onSync: () => void }) {
  useRoom({ kind: 'queue', id: pool }, { 'queue:pool': (event) => event.pool === pool && onPool(event) }, onSync);
  return null;
}

function TeamRoom({ teamId, onTeam, onSync }: { teamId: string; onTeam: (e: QueueTeamEvent) => void; onSync: () => void }) {
  useRoom({ kind: 'team', id: teamId }, { 'queue:team': (event) => event.teamId === teamId && onTeam(event) }, onSync);
  return null;
}

/**
 * Every pool's running and waiting jobs in dispatch order. The viewer's teams' jobs are shown
 * with who, what, place and wait; other teams' only as counts, which is all the server sends.
 */
export function QueueView({ initial, userId }: { initial: QueueOverview | null; userId: string }) {
  const { query, live, onPool, onTeam, refetch } = useLiveQueue(initial);
  const teams = query.data?.teams ?? [];
  const ownWaiting = Object.values(live.teams).flatMap((team) => team.waiting);
  const ownRunning = Object.values(live.teams).flatMap((team) => team.running);

  return (
    <>
      {live.pools.map((pool) => (
        <PoolRoom key={pool.pool} pool={pool.pool} onPool={onPool} onSync={refetch} />
      ))}
      {teams.map((team) => (
        <TeamRoom key={team.id} teamId={team.id} onTeam={onTeam} onSync={refetch} />
      ))}

      {query.isPending && (
        <div className="card queue-placeholder" aria-busy="true">
          Loading the queue…
        </div>
      )}
      {query.isError && !query.data && (
        <div className="card" role="alert">
          <p className="error">The queue could not be loaded: {query.error.message}</p>
          <button type="button" className="secondary" onClick={refetch}>
            Try again
          </button>
        </div>
      )}
      {query.data?.unavailable && (
        <p className="card error" role="alert">
          The scheduler is not answering right now; the queue will show again as soon as it does.
        </p>
      )}
      {query.data && !query.data.unavailable && live.pools.length === 0 && (
        <div className="card empty">No backends are registered yet, so there is no queue.</div>
      )}
      {teams.length === 0 && query.data && (
        <p className="muted">You are in no team yet: you see the pools’ load, and your jobs will show here once you run some.</p>
      )}

      <div className="stack">
        {live.pools.map((pool) => (
          <QueuePool
            key={pool.pool}
            pool={pool}
            waiting={ownWaiting.filter((job) => job.pool === pool.pool)}
            running={ownRunning.filter((job) => job.pool === pool.pool)}
            history={live.history[pool.pool] ?? []}
            userId={userId}
          />
        ))}
      </div>
    </>
  );
}
