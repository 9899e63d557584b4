import type { QueueSnapshot } from '../../workflows/scheduler/core';
import type { QueueService } from '../services/queue';
import type { JobDetails } from '../services/queue-view';
import type { LocalFeed } from './local-feed';
import type { IoServer } from './types';

export interface QueueBroadcasterOptions {
  /** At most one snapshot fetch per this many ms. */
  intervalMs?: number;
  /** Wait after a failed fetch (scheduler not started, Temporal down). */
  retryMs?: number;
  onError?: (error: unknown) => void;
  /** Listeners in this process (the HTTP API's waiting requests) that watch teams without a socket. */
  feed?: LocalFeed;
}

const isQueueRoom = (room: string) => room.startsWith('queue:') || room.startsWith('team:');

/**
 * Pushes the scheduler's queue snapshot to this web process's sockets: `queue:pool` (counts and
 * backends) to `queue:<pool>`, `queue:team` (that team's jobs with positions) to `team:<id>`.
 *
 * It runs only while a local socket is in a queue or team room, fetches at most every
 * `intervalMs`, and sends only when the snapshot's version moved — so the cost is one query and
 * one message per room per change, whatever the number of waiting jobs or watching clients.
 *
 * Every web process runs one and emits with `io.local`: each process fetches the same snapshot
 * for the sockets it serves itself; emitting through the adapter would hand every client one copy
 * per web process (and cost a NOTIFY per message for nothing).
 */
export function createQueueBroadcaster(io: IoServer, queue: QueueService, options: QueueBroadcasterOptions = {}) {
  const { intervalMs = 250, retryMs = 2_000, onError, feed } = options;
  const adapter = io.of('/').adapter;
  const watched = new Set<string>();
  let known: number | null = null;
  /** Teams sent a non-empty queue last time: they must hear that it emptied. */
  let teamsWithJobs = new Set<string>();
  let details: JobDetails = new Map();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let publishing: Promise<void> | undefined;
  let stopped = false;
  let lastError = '';

  const onCreate = (room: string) => {
    if (!isQueueRoom(room)) return;
    watched.add(room);
    // A new watcher needs nothing pushed at once (it fetches `queue.get` after joining), but a
    // sleeping broadcaster must wake up.
    if (!timer && !running) schedule(0);
  };
  const onDelete = (room: string) => void watched.delete(room);
  adapter.on('create-room', onCreate);
  adapter.on('delete-room', onDelete);
  for (const room of adapter.rooms.keys()) if (isQueueRoom(room)) watched.add(room);
  const stopWaking = feed?.onWatch(() => {
    if (!timer && !running) schedule(0);
  });
  const feedTeams = () => new Set(feed?.watchedTeams() ?? []);

  function schedule(delayMs: number): void {
    if (stopped || (watched.size === 0 && feedTeams().size === 0)) return;
    timer = setTimeout(() => {
      timer = undefined;
      const started = Date.now();
      running = tick()
        .then(() => schedule(Math.max(0, intervalMs - (Date.now() - started))))
        .catch((error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          // One line per new kind of failure, not four per second while the scheduler is away.
          if (message !== lastError) onError?.(error);
          lastError = message;
          schedule(retryMs);
        })
        .finally(() => (running = undefined));
    }, delayMs);
  }

  async function tick(): Promise<void> {
    const teamIds = [...new Set([...[...watched].filter((room) => room.startsWith('team:')).map((room) => room.slice('team:'.length)), ...feedTeams()])];
    const snap = await queue.snapshot(teamIds, known);
    lastError = '';
    if (!snap || stopped) return;
    known = snap.version;
    queue.record(snap);
    publishing = publish(snap);
    try {
      await publishing;
    } finally {
      publishing = undefined;
    }
  }

  async function publish(snap: QueueSnapshot): Promise<void> {
    for (const pool of snap.pools) {
      const room = `queue:${pool.pool}`;
      if (watched.has(room)) io.local.to(room).emit('queue:pool', queue.poolEvent(snap, pool));
    }
    const local = feedTeams();
    const teams = [...new Set([...Object.keys(snap.teams), ...teamsWithJobs])].filter((id) => watched.has(`team:${id}`) || local.has(id));
    const refs = queue.teamRefs(snap, teams);
    // Job details only change with the job: fetch the ones not seen before, forget the gone ones.
    const missing = refs.filter((ref) => !details.has(ref.jobId));
    const fetched = await queue.describe(missing);
    const next: JobDetails = new Map();
    for (const { jobId } of refs) {
      const info = details.get(jobId) ?? fetched.get(jobId);
      if (info) next.set(jobId, info);
    }
    details = next;
    for (const teamId of teams) {
      const event = queue.teamEvent(snap, teamId, details);
      if (watched.has(`team:${teamId}`)) io.local.to(`team:${teamId}`).emit('queue:team', event);
      if (local.has(teamId)) feed!.deliverTeamQueue(event);
    }
    teamsWithJobs = new Set(Object.keys(snap.teams));
  }

  return {
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      stopWaking?.();
      adapter.off('create-room', onCreate);
      adapter.off('delete-room', onDelete);
      // A scheduler query under way is not waited for: while everything shuts down no worker may
      // be polling to answer it, and its answer is dropped once stopped. A publish under way reads
      // the database, which closes after this, so that is waited for.
      await publishing?.catch(() => undefined);
    },
  };
}
