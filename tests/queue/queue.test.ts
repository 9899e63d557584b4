import { beforeAll, describe, expect, it } from 'vitest';
import { useJobStack, type TestSocket } from '../support/job-stack';
import type { QueuePoolEvent, QueueTeamEvent } from '../../server/realtime/events';
import { until } from '../support/until';
import { holdSlot } from '../support/hold-slot';
import { createFreeTeam } from '../support/mixed-backlog';
import { schedulerWorkflowId, snapshotQuery } from '../../workflows/scheduler/api';

/**
 * The live queue over Socket.IO with real clients: one simulated backend with one slot, the demo
 * team (premium) and a second team (free) submitting into it.
 */

const pace = { slots: 1, tokensPerSecond: 200, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 30 };
const { temporal, stack, sim } = useJobStack({
  simulators: [pace],
  slots: 1,
  leaseCheckMs: 1_000,
});
let demoProject: string;
let demoTeam: string;
let otherProject: string;
let otherTeam: string;

beforeAll(async () => {
  // A second team on the free tier: Other Team, owned by other@example.com.
  ({ demoProject, demoTeam, freeProject: otherProject, freeTeam: otherTeam } = await createFreeTeam(stack, 'Other'));
});


/** Every queue event a socket hears, in arrival order. */
function listen(socket: TestSocket) {
  const heard = { pool: [] as QueuePoolEvent[], team: [] as QueueTeamEvent[], other: [] as string[] };
  socket.on('queue:pool', (event) => heard.pool.push(event));
  socket.on('queue:team', (event) => heard.team.push(event));
  socket.onAny((name: string) => {
    if (name !== 'queue:pool' && name !== 'queue:team') heard.other.push(name);
  });
  return heard;
}

async function join(socket: TestSocket, kind: 'team' | 'queue', id: string) {
  expect(await socket.emitWithAck('join', { kind, id })).toEqual({ ok: true });
}

const statusOf = async (jobId: string) =>
  (await stack.prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { status: true } })).status;

describe('the live queue', () => {
  it('pushes each team its own positions, which are the order jobs start; other teams hear only counts', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const other = await stack.signIn('other@example.com', 'other-password');
    const demoSocket = await stack.connect(demo.token);
    const otherSocket = await stack.connect(other.token);
    const demoHeard = listen(demoSocket);
    const otherHeard = listen(otherSocket);
    await join(demoSocket, 'team', demoTeam);
    await join(demoSocket, 'queue', 'local');
    await join(otherSocket, 'team', otherTeam);
    await join(otherSocket, 'queue', 'local');

    // A job holds the only slot while the others queue behind it.
    const blocker = await holdSlot({
      sim,
      pace,
      submit: () => demo.caller.jobs.submit({ projectId: demoProject, requirements: 'hold the slot', clientKey: 'queue-blocker', priority: 'normal' }),
      cancel: (jobId) => demo.caller.jobs.cancel({ jobId }),
      prisma: stack.prisma,
    });
    const submissions = [
      [other, otherProject, 'high'],
      [demo, demoProject, 'low'],
      [other, otherProject, 'normal'],
      [demo, demoProject, 'high'],
      [demo, demoProject, 'normal'],
    ] as const;
    const jobs: string[] = [];
    for (const [i, [who, projectId, priority]] of submissions.entries()) {
      jobs.push((await who.caller.jobs.submit({ projectId, requirements: `queued job ${i}`, clientKey: `queue-job-${i}`, priority })).id);
    }
    const demoJobs = jobs.filter((_, i) => submissions[i]![0] === demo);
    const otherJobs = jobs.filter((_, i) => submissions[i]![0] === other);

    // The latest event of each team holds all of its waiting jobs: together, positions 0..4.
    const latest = (events: QueueTeamEvent[]) => events.at(-1);
    const positions = await until(() => {
      const mine = latest(demoHeard.team);
      const theirs = latest(otherHeard.team);
      if (!mine || !theirs || mine.waiting.length !== 3 || theirs.waiting.length !== 2) return null;
      const all = [...mine.waiting, ...theirs.waiting];
      return all.map((w) => w.position).sort().join() === '0,1,2,3,4' ? new Map(all.map((w) => [w.jobId, w.position])) : null;
    }, 'both teams to hear all their waiting jobs');
    const mine = latest(demoHeard.team)!;
    expect(mine.teamId).toBe(demoTeam);
    expect(mine.waiting.map((w) => w.jobId).sort()).toEqual([...demoJobs].sort());
    expect(mine.waiting.every((w) => w.userId === demo.user.id && w.job?.userName === 'Demo User' && w.job.projectId === demoProject)).toBe(true);
    expect(mine.running.map((r) => r.jobId)).toEqual([blocker.jobId]);
    expect(mine.waiting.find((w) => w.jobId === jobs[1])?.job?.title).toBe('queued job 1');

    // The pool event counts everyone's jobs and names none.
    const pool = await until(() => demoHeard.pool.findLast((e) => e.version >= mine.version), 'a pool event as new');
    expect(pool).toMatchObject({ pool: 'local', waiting: 5, running: 1 });
    // Named for people: its pool and an ordinal while it has no name of its own, never its address.
    expect(pool.backends).toEqual([{ id: 'local #1', slots: 1, running: 1, queued: 0, up: true, loadedModels: expect.any(Array) }]);
    expect(JSON.stringify(demoHeard)).not.toContain(stack.backendIds[0]);

    // The other team's sockets heard counts and their own jobs, never a demo job, user or project.
    const otherText = JSON.stringify(otherHeard);
    for (const secret of [...demoJobs, blocker.jobId, demo.user.id, demoProject, demoTeam, 'Demo User']) {
      expect(otherText).not.toContain(secret);
    }
    expect(otherHeard.team.every((e) => e.teamId === otherTeam)).toBe(true);
    expect(latest(otherHeard.team)!.waiting.map((w) => w.jobId).sort()).toEqual([...otherJobs].sort());
    expect(otherHeard.pool.length).toBeGreaterThan(0);

    // Versions only grow, and `at` is the scheduler's time of the state.
    for (const events of [demoHeard.team, demoHeard.pool, otherHeard.team]) {
      const versions = events.map((e) => e.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      expect(events.every((e) => e.at > Date.now() - 120_000 && e.at <= Date.now())).toBe(true);
    }

    // The scheduler's answer itself holds only the teams asked for; a team list that is none is refused.
    const scheduler = temporal.client.workflow.getHandle(schedulerWorkflowId(stack.taskQueue));
    const forOther = (await scheduler.query(snapshotQuery, null, [otherTeam]))!;
    expect(Object.keys(forOther.teams)).toEqual([otherTeam]);
    for (const secret of [...demoJobs, blocker.jobId, demo.user.id]) expect(JSON.stringify(forOther)).not.toContain(secret);
    await expect(scheduler.query(snapshotQuery, null, 'all' as unknown as string[])).rejects.toThrow(/list of team ids/);

    // The first paint agrees with the pushed events, per caller.
    const overview = await demo.caller.queue.get();
    expect(overview.teamQueues.map((q) => q.teamId)).toEqual([demoTeam]);
    expect(overview.teamQueues[0]!.waiting.map((w) => [w.jobId, w.position])).toEqual(mine.waiting.map((w) => [w.jobId, w.position]));
    // This web process's samples of the pool, for the charts of a page opened now.
    expect(overview.history.local?.at(-1)).toMatchObject({ backends: [{ id: 'local #1', slots: 1 }] });
    expect(JSON.stringify(overview)).not.toContain(stack.backendIds[0]);
    // Samples are taken every 2 s: wait for one from while the blocker runs.
    await until(
      async () => (await demo.caller.queue.get()).history.local?.some((sample) => sample.running === 1 && sample.backends[0]!.running === 1),
      'a pool sample with the blocker running',
    );
    const otherOverview = await other.caller.queue.get();
    expect(JSON.stringify(otherOverview)).not.toContain(demoJobs[0]);
    expect(otherOverview.pools.find((p) => p.pool === 'local')?.waiting).toBe(5);

    await blocker.release();
    await until(async () => (await stack.prisma.job.count({ where: { id: { in: jobs }, status: 'completed' } })) === jobs.length, 'all jobs to complete', 60_000);
    const started = await stack.prisma.job.findMany({ where: { id: { in: jobs } }, orderBy: { startedAt: 'asc' }, select: { id: true } });
    expect(started.map((j) => j.id)).toEqual([...jobs].sort((a, b) => positions.get(a)! - positions.get(b)!));

    // When the queue empties, each team hears so.
    await until(() => latest(demoHeard.team)?.waiting.length === 0 && latest(demoHeard.team)?.running.length === 0, 'the demo team to hear its queue emptied');
    await until(() => latest(otherHeard.team)?.waiting.length === 0, 'the other team to hear its queue emptied');
  }, 120_000);

  it('sends a socket only in the pool’s room counts, and nothing once it left', async () => {
    const other = await stack.signIn('other@example.com', 'other-password');
    const socket = await stack.connect(other.token);
    const heard = listen(socket);
    await join(socket, 'queue', 'local');
    expect(await socket.emitWithAck('join', { kind: 'queue', id: 'no-such-pool' })).toEqual({ ok: false, error: 'not found' });

    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    // Long enough (1.5 s) for the broadcaster, fetching every 250 ms, to see it run.
    sim.configure({ tokensPerSecond: 20 });
    const job = await demo.caller.jobs.submit({ projectId: demoProject, requirements: 'counted only', clientKey: 'queue-count-1', priority: 'normal' });
    await until(() => heard.pool.some((e) => e.running === 1 || e.waiting === 1), 'the pool event of the new job');
    await until(async () => (await statusOf(job.id)) === 'completed', 'the job to complete');
    sim.configure({ tokensPerSecond: 200 });
    expect(heard.team).toEqual([]);
    expect(JSON.stringify(heard.pool)).not.toContain(job.id);

    socket.emit('leave', { kind: 'queue', id: 'local' });
    await until(async () => (await socket.emitWithAck('join', { kind: 'team', id: otherTeam })).ok, 'a round trip after leaving');
    const count = heard.pool.length;
    const next = await demo.caller.jobs.submit({ projectId: demoProject, requirements: 'not heard', clientKey: 'queue-count-2', priority: 'normal' });
    await until(async () => (await statusOf(next.id)) === 'completed', 'the second job to complete');
    expect(heard.pool.length).toBe(count);
  }, 90_000);
});
