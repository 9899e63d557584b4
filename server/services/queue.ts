import { SNAPSHOT_FORMAT, type QueueSnapshot } from '../../workflows/scheduler/core';
import { schedulerWorkflowId, snapshotQuery } from '../../workflows/scheduler/api';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { SessionUser } from '../auth/session';
import { appendSample, toSample, type PoolHistory } from '../realtime/queue-samples';
import type { TemporalProvider } from '../temporal/client';
import type { BackendNames } from './backend-names';
import { poolEvent, teamEvent, teamRefs, type JobDetails, type TeamJobRef } from './queue-view';

const TITLE_CHARS = 140;

const queueJobSelect = {
  id: true,
  teamId: true,
  userId: true,
  requirements: true,
  user: { select: { name: true } },
  project: { select: { id: true, name: true } },
  apiKey: { select: { name: true } },
} satisfies Prisma.JobSelect;

/**
 * The shared queue, read from the scheduler's snapshot. Shared by the `queue.get` procedure (first
 * paint, and the refetch after a reconnect) and the web process's broadcaster, so both build the
 * same events; the pool history is this process's own window of samples.
 */
export function createQueueService({ prisma, temporal, backendNames }: { prisma: PrismaClient; temporal: TemporalProvider; backendNames: BackendNames }) {
  const history: PoolHistory = {};

  /**
   * The scheduler's snapshot with the jobs of `teamIds` only (the teams the caller may be shown),
   * or null when it has none newer than `known`. Backends are named as users see them
   * (backend-names.ts): the queue's views go to everyone signed in.
   */
  async function snapshot(teamIds: readonly string[], known: number | null = null): Promise<QueueSnapshot | null> {
    const client = await temporal.get();
    const snap = await client.workflow.getHandle(schedulerWorkflowId(temporal.config.taskQueue)).query(snapshotQuery, known, [...teamIds]);
    if (snap && snap.format !== SNAPSHOT_FORMAT) {
      throw new Error(`the scheduler answered in snapshot format ${String(snap.format)}, this web process reads ${SNAPSHOT_FORMAT} (a deploy in progress?)`);
    }
    return snap && backendNames.named(snap);
  }

  function record(snap: QueueSnapshot): void {
    for (const pool of snap.pools) history[pool.pool] = appendSample(history[pool.pool] ?? [], toSample(pool, snap.at));
  }

  /**
   * Who asked for what, for jobs the snapshot lists under a team. The team is in the `where` and
   * checked again per row: a job is only ever described to the team the scheduler filed it under.
   */
  async function describe(refs: TeamJobRef[]): Promise<JobDetails> {
    if (refs.length === 0) return new Map();
    const teamOf = new Map(refs.map((ref) => [ref.jobId, ref.teamId]));
    const ids = [...teamOf.keys()];
    const teamIds = [...new Set(teamOf.values())];
    // A review's files wait under their items' ids (workflows/code-review.ts): shown as the review, naming the file.
    const [rows, items] = await Promise.all([
      prisma.job.findMany({ where: { id: { in: ids }, teamId: { in: teamIds } }, select: queueJobSelect }),
      prisma.reviewItem.findMany({ where: { id: { in: ids }, job: { teamId: { in: teamIds } } }, select: { id: true, path: true, job: { select: queueJobSelect } } }),
    ]);
    const described = [...rows.map((row) => ({ id: row.id, row, title: row.requirements })), ...items.map((item) => ({ id: item.id, row: item.job, title: `${item.job.requirements}: ${item.path}` }))];
    const details: JobDetails = new Map();
    for (const { id, row, title } of described) {
      if (teamOf.get(id) !== row.teamId) continue;
      details.set(id, {
        userId: row.userId,
        info: {
          userName: row.user.name,
          projectId: row.project.id,
          projectName: row.project.name,
          title: title.length > TITLE_CHARS ? `${title.slice(0, TITLE_CHARS - 1)}…` : title,
          apiKeyName: row.apiKey?.name ?? null,
        },
      });
    }
    return details;
  }

  return {
    snapshot,
    record,
    describe,
    poolEvent,
    teamEvent,
    teamRefs,

    /** Every pool's counts, the caller's teams' jobs, and this process's recent pool history. */
    async get(user: SessionUser) {
      const memberships = await prisma.membership.findMany({
        where: { userId: user.id },
        select: { team: { select: { id: true, name: true } } },
        orderBy: { team: { name: 'asc' } },
      });
      const teams = memberships.map((m) => m.team);
      // The page still shows the history and says why the rest is missing.
      const snap = await snapshot(teams.map((t) => t.id)).catch(() => 'unavailable' as const);
      if (!snap || snap === 'unavailable') {
        return { version: 0, at: null, teams, pools: [], teamQueues: [], history, unavailable: snap === 'unavailable' };
      }
      record(snap);
      const details = await describe(teamRefs(snap, teams.map((t) => t.id)));
      return {
        version: snap.version,
        at: snap.at,
        teams,
        pools: snap.pools.map((pool) => poolEvent(snap, pool)),
        teamQueues: teams.map((team) => teamEvent(snap, team.id, details)),
        history,
        unavailable: false,
      };
    },
  };
}

export type QueueService = ReturnType<typeof createQueueService>;
