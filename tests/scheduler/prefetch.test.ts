import { describe, expect, it } from 'vitest';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';
import { backlogBehindBlocker, startOrder, useTwoTeams } from '../support/mixed-backlog';
import { decodeTeamQueue } from '../../workflows/scheduler/core';
import { positionQuery, snapshotQuery, statusQuery } from '../../workflows/scheduler/api';

/**
 * Pipelining on the real Temporal dev server: one simulated backend of one slot, and a prefetch
 * of one lease beyond it, so the next job's request waits inside the backend (the simulator's
 * OLLAMA_MAX_QUEUE) and takes the slot the moment it frees.
 */

const { stack, sim } = useJobStack({
  simulators: [{ slots: 1, tokensPerSecond: 200, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 30 }],
  slots: 1,
  prefetch: 1,
  leaseCheckMs: 1_000,
});
const teams = useTwoTeams(stack);

const statusOf = async (jobId: string) => (await stack.prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { status: true } })).status;
const backendStatus = async () => (await stack.scheduler().query(statusQuery)).backends[0]!;

describe('pipelining (prefetch 1 beyond 1 slot)', () => {
  it('the next job’s request reaches the backend before the running one ends, and takes the slot as it frees', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const before = sim.requests().length;
    sim.configure({ tokensPerSecond: 10 });
    const first = await demo.caller.jobs.submit({ projectId: teams.demoProject, requirements: 'first', clientKey: 'pipe-first', priority: 'normal' });
    await until(async () => (await statusOf(first.id)) === 'running', 'the first job to run');
    const second = await demo.caller.jobs.submit({ projectId: teams.demoProject, requirements: 'second', clientKey: 'pipe-second', priority: 'normal' });

    await until(() => sim.stats().queued === 1, 'the second request to wait inside the backend');
    expect(sim.stats().active).toBe(1);
    expect(sim.requests()).toHaveLength(before);
    // Slots busy stay truthful: one slot busy, one request queued.
    expect(await backendStatus()).toMatchObject({ slots: 1, prefetch: 1, running: 1, queued: 1 });
    expect(await stack.scheduler().query(positionQuery, second.id)).toBeNull();

    await until(async () => (await stack.prisma.job.count({ where: { id: { in: [first.id, second.id] }, status: 'completed' } })) === 2, 'both to complete');
    const [ran, next] = sim.requests().slice(before);
    expect(next!.arrivedAt).toBeLessThan(ran!.endedAt);
    // The slot went straight to the waiting request: no scheduler round trip in between.
    expect(next!.slotAt! - ran!.endedAt).toBeLessThan(20);
    await until(async () => (await backendStatus()).running === 0 && (await backendStatus()).queued === 0, 'the leases to be released');
  }, 60_000);

  it('cancelling a pipelined job aborts its waiting request and gives the lease back', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    sim.configure({ tokensPerSecond: 5 });
    const running = await demo.caller.jobs.submit({ projectId: teams.demoProject, requirements: 'holds the slot', clientKey: 'pipe-cancel-run', priority: 'normal' });
    await until(async () => (await statusOf(running.id)) === 'running', 'the first job to run');
    const queued = await demo.caller.jobs.submit({ projectId: teams.demoProject, requirements: 'cancelled in the queue', clientKey: 'pipe-cancel-queued', priority: 'normal' });
    await until(() => sim.stats().queued === 1, 'its request to wait inside the backend');

    await demo.caller.jobs.cancel({ jobId: queued.id });
    await until(async () => (await statusOf(queued.id)) === 'cancelled', 'the cancellation');
    await until(async () => sim.stats().queued === 0 && (await backendStatus()).queued === 0, 'the request and the lease to go');
    expect((await stack.scheduler().query(statusQuery)).leases).toEqual([running.id]);
    expect(sim.requests().at(-1)?.outcome).toBe('aborted');

    await demo.caller.jobs.cancel({ jobId: running.id });
    await until(async () => (await stack.scheduler().query(statusQuery)).leases.length === 0, 'every lease to be released');
  }, 60_000);

  it('starts jobs in the order of the positions it published; the pipelined job first', async () => {
    // The first arrival found the queue slot free and was pipelined at once (it has no position:
    // it holds a lease); a later higher-priority job cannot overtake it. The other five queue.
    const { blocker, jobs, positions, release } = await backlogBehindBlocker(stack, sim, teams, 'pipe-job', '-1,0,1,2,3,4');
    const pipelined = jobs[positions.indexOf(-1)]!;
    expect(pipelined).toBe(jobs[0]);
    expect((await stack.scheduler().query(statusQuery)).leases.sort()).toEqual([blocker, pipelined].sort());
    // The live queue lists it with the running jobs, as starting; only the blocker holds the slot.
    const snapshot = (await stack.scheduler().query(snapshotQuery, null, [teams.demoTeam, teams.freeTeam]))!;
    const listed = [teams.demoTeam, teams.freeTeam].flatMap((teamId) => decodeTeamQueue(snapshot, teamId).running);
    expect(listed.map((r) => [r.jobId, r.starting]).sort()).toEqual([[blocker, false], [pipelined, true]].sort());
    expect(snapshot.pools[0]).toMatchObject({ running: 1, starting: 1, waiting: 5, backends: [{ running: 1, queued: 1 }] });

    await release();
    const predicted = jobs.filter((id) => id !== pipelined).sort((a, b) => positions[jobs.indexOf(a)]! - positions[jobs.indexOf(b)]!);
    expect(await startOrder(stack, jobs)).toEqual([pipelined, ...predicted]);
    // The backend served them in the order they were granted (its queue is FIFO).
    const served = sim.requests().slice(-jobs.length);
    expect(served.map((r) => r.slotAt!)).toEqual([...served.map((r) => r.slotAt!)].sort((a, b) => a - b));
    await until(async () => (await stack.scheduler().query(statusQuery)).leases.length === 0, 'every lease to be released');
  }, 60_000);
});
