import { describe, expect, it } from 'vitest';
import { recordHistory } from '../support/histories';
import { useJobStack } from '../support/job-stack';
import { jobWorkflowId } from '../../workflows/definitions';
import { positionQuery, schedulerWorkflowId, statusQuery } from '../../workflows/scheduler/api';
import { until } from '../support/until';
import { backlogBehindBlocker, startOrder, useTwoTeams } from '../support/mixed-backlog';

/** The scheduler workflow on the real Temporal dev server, with one simulated backend of one slot. */

const { temporal, stack, sim } = useJobStack({
  simulators: [{ slots: 1, tokensPerSecond: 200, timeToFirstTokenMs: 5, modelLoadMs: 0, outputTokens: 30 }],
  slots: 1,
  leaseCheckMs: 1_000,
});
const teams = useTwoTeams(stack);



const statusOf = async (jobId: string) =>
  (await stack.prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { status: true } })).status;

describe('the scheduler workflow', () => {
  it('starts jobs in exactly the order of the positions it published', async () => {
    // A long job holds the only slot while the others queue behind it; then the six positions are exactly 0..5.
    const { demo, jobs, positions, release } = await backlogBehindBlocker(stack, sim, teams, 'order-job', '0,1,2,3,4,5');
    // The web shows the same position on the job.
    expect((await demo.caller.jobs.live({ jobId: jobs[1]! })).queue?.position).toBe(positions[1]);

    await release();
    const predicted = [...jobs].sort((a, b) => positions[jobs.indexOf(a)]! - positions[jobs.indexOf(b)]!);
    expect(await startOrder(stack, jobs)).toEqual(predicted);
    // The demo team's high job leads, the free team's low one comes last; equal levels go by fair share.
    expect(predicted[0]).toBe(jobs[3]);
    expect(predicted.at(-1)).toBe(jobs[5]);
  }, 90_000);

  it('serves a team whose tier was created after the scheduler started', async () => {
    sim.configure({ tokensPerSecond: 400 });
    const tier = await stack.prisma.tier.create({
      data: { name: 'late', allowedModels: [], poolPreference: ['local'], maxQueuedPerUser: 5 },
    });
    const late = await stack.prisma.team.create({
      data: {
        name: 'Late Team',
        slug: 'late-team',
        tierId: tier.id,
        projects: { create: { name: 'Late Project' } },
        memberships: { create: { userId: (await stack.prisma.user.findUniqueOrThrow({ where: { email: 'free@example.com' } })).id } },
      },
      include: { projects: true },
    });
    const free = await stack.signIn('free@example.com', 'free-password');
    const job = await free.caller.jobs.submit({ projectId: late.projects[0]!.id, requirements: 'late', clientKey: 'late-tier-1', priority: 'normal' });
    await until(async () => ['completed', 'failed'].includes(await statusOf(job.id)) && statusOf(job.id), 'the job to finish');
    expect(await statusOf(job.id)).toBe('completed');
  });

  it('moves a waiting job ahead when an admin boosts it', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const admin = await stack.signIn('admin@switchyard.dev', 'admin-password');
    sim.configure({ tokensPerSecond: 5 });
    const blocker = await demo.caller.jobs.submit({ projectId: teams.demoProject, requirements: 'boost blocker', clientKey: 'boost-blocker', priority: 'normal' });
    await until(async () => (await statusOf(blocker.id)) === 'running', 'the blocker to run');
    const positionOf = async (id: string) => (await stack.scheduler().query(positionQuery, id))?.position;
    // The scheduler's FIFO is its arrival order: let the first arrive before the second is sent.
    const first = await demo.caller.jobs.submit({ projectId: teams.demoProject, requirements: 'first', clientKey: 'boost-first', priority: 'normal' });
    await until(async () => (await positionOf(first.id)) === 0, 'the first job to queue');
    const second = await demo.caller.jobs.submit({ projectId: teams.demoProject, requirements: 'second', clientKey: 'boost-second', priority: 'normal' });
    await until(async () => (await positionOf(second.id)) === 1, 'the second job to queue behind the first');

    await admin.caller.jobs.boost({ jobId: second.id, boost: 20 });
    await until(async () => (await positionOf(second.id)) === 0 && (await positionOf(first.id)) === 1, 'the boost to reorder them');
    expect(await stack.prisma.auditLog.count({ where: { action: 'job.boost', targetId: second.id } })).toBe(1);

    sim.configure({ tokensPerSecond: 400 });
    await until(async () => (await stack.prisma.job.count({ where: { id: { in: [first.id, second.id] }, status: 'completed' } })) === 2, 'both to complete');
    const started = await stack.prisma.job.findMany({ where: { id: { in: [first.id, second.id] } }, orderBy: { startedAt: 'asc' }, select: { id: true } });
    expect(started.map((j) => j.id)).toEqual([second.id, first.id]);
  }, 90_000);

  it('leaks no slot after a storm of cancellations and terminations', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    sim.configure({ tokensPerSecond: 30 });
    const jobs: string[] = [];
    for (let i = 0; i < 6; i++) {
      jobs.push((await demo.caller.jobs.submit({ projectId: teams.demoProject, requirements: `storm ${i}`, clientKey: `storm-key-${i}`, priority: 'normal' })).id);
    }
    // Which job runs first is the scheduler's choice (arrival order): find them by status.
    const jobIn = (status: 'running' | 'queued', except: string[] = []) =>
      stack.prisma.job.findFirst({ where: { id: { in: jobs, notIn: except }, status }, select: { id: true } }).then((j) => j?.id);
    const firstRunning = await until(() => jobIn('running'), 'a job to run');
    await demo.caller.jobs.cancel({ jobId: firstRunning });
    const waiting = (await jobIn('queued'))!;
    await demo.caller.jobs.cancel({ jobId: waiting });
    // Terminated: the workflow never says done; the lease check must reclaim its slot.
    const nextRunning = await until(() => jobIn('running', [firstRunning]), 'the next job to run');
    const terminated = [nextRunning, (await jobIn('queued', [waiting]))!];
    for (const id of terminated) await temporal.client.workflow.getHandle(jobWorkflowId(id)).terminate('test storm');
    sim.configure({ tokensPerSecond: 400 });

    const untouched = jobs.filter((id) => ![firstRunning, waiting, ...terminated].includes(id));
    for (const id of untouched) await until(async () => (await statusOf(id)) === 'completed', `job ${id} to complete`);
    const status = await until(async () => {
      const s = await stack.scheduler().query(statusQuery);
      return s.leases.length === 0 && s.waiting === 0 ? s : null;
    }, 'every slot to be free');
    expect(status.backends.map((b) => b.running)).toEqual([0]);
    expect(sim.stats().active).toBe(0);

    // The freed slot is usable: a new job runs to completion.
    const after = await demo.caller.jobs.submit({ projectId: teams.demoProject, requirements: 'after the storm', clientKey: 'storm-key-after', priority: 'normal' });
    await until(async () => (await statusOf(after.id)) === 'completed', 'a job after the storm');
    await recordHistory(temporal.client, 'scheduler-after-storm', schedulerWorkflowId(stack.taskQueue), { open: true });
  }, 90_000);
});
