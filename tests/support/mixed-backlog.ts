import { hashPassword } from '../../server/auth/password';
import type { Simulator } from '../../simulator';
import { jobWorkflowId } from '../../workflows/definitions';
import { positionQuery } from '../../workflows/scheduler/api';
import type { JobStack } from './job-stack';
import { perFile } from './per-file';
import { until } from './until';

export interface TwoTeams {
  demoProject: string;
  demoTeam: string;
  freeProject: string;
  freeTeam: string;
  /** The free team's owner. */
  freeMember: { email: string; password: string };
}

/**
 * Two teams on different tiers for scheduler tests on a seeded database: the seeded demo team
 * (premium) and a free-tier team created here ("<name> Team", owned by <name>@example.com with
 * the password "<name>-password", lower-cased), each with a project.
 */
export async function createFreeTeam(stack: JobStack, name = 'Free'): Promise<TwoTeams> {
  const demo = await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
  const free = await stack.prisma.tier.findUniqueOrThrow({ where: { name: 'free' } });
  const handle = name.toLowerCase();
  const freeMember = { email: `${handle}@example.com`, password: `${handle}-password` };
  const team = await stack.prisma.team.create({
    data: {
      name: `${name} Team`,
      slug: `${handle}-team`,
      tierId: free.id,
      memberships: {
        create: { role: 'owner', user: { create: { email: freeMember.email, name, passwordHash: await hashPassword(freeMember.password) } } },
      },
      projects: { create: { name: `${name} Project` } },
    },
    include: { projects: true },
  });
  return { demoProject: demo.id, demoTeam: demo.teamId, freeProject: team.projects[0]!.id, freeTeam: team.id, freeMember };
}

/** `createFreeTeam` for a test file, made once its stack is up; usable at module scope. */
export function useTwoTeams(stack: JobStack, name?: string): TwoTeams {
  return perFile('useTwoTeams()', () => createFreeTeam(stack, name), async () => {});
}

/**
 * Six jobs of both teams at mixed priorities, each submitted once the scheduler took the one before (effective priority =
 * tier base, premium 10 / free 0, + job priority ±10): the demo team's high job (index 3) leads,
 * the free team's low one (index 5) comes last. Their ids, in submission order.
 */
export async function submitMixedBacklog(stack: JobStack, projects: TwoTeams, keyPrefix: string) {
  const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
  const free = await stack.signIn(projects.freeMember.email, projects.freeMember.password);
  const submissions = [
    [free, projects.freeProject, 'high'],
    [demo, projects.demoProject, 'low'],
    [free, projects.freeProject, 'normal'],
    [demo, projects.demoProject, 'high'],
    [demo, projects.demoProject, 'normal'],
    [free, projects.freeProject, 'low'],
  ] as const;
  const jobs: string[] = [];
  for (const [i, [who, projectId, priority]] of submissions.entries()) {
    const job = await who.caller.jobs.submit({ projectId, requirements: `job ${i}`, clientKey: `${keyPrefix}-${i}`, priority });
    await stack.untilScheduled(job.id);
    jobs.push(job.id);
  }
  return jobs;
}

/**
 * A slow job of the demo team holds the simulator's only slot (for about a minute: long enough to
 * outlast the backlog's submission on a busy machine) while `submitMixedBacklog` queues behind it;
 * then each job's position in the scheduler's plan (-1: none, it holds a lease), once they read
 * `expected` in sorted order. `release` speeds the simulator up again and cancels the blocker.
 */
export async function backlogBehindBlocker(stack: JobStack, sim: Simulator, projects: TwoTeams, keyPrefix: string, expected: string) {
  const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
  sim.configure({ tokensPerSecond: 0.5 });
  const blocker = await demo.caller.jobs.submit({ projectId: projects.demoProject, requirements: 'a blocker', clientKey: `${keyPrefix}-blocker`, priority: 'normal' });
  await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id: blocker.id } })).status === 'running', 'the blocker to run');
  const jobs = await submitMixedBacklog(stack, projects, keyPrefix);
  const scheduler = stack.scheduler();
  const positions = await until(async () => {
    const found = (await Promise.all(jobs.map((id) => scheduler.query(positionQuery, id)))).map((p) => p?.position ?? -1);
    return [...found].sort().join() === expected ? found : null;
  }, `the backlog's positions to read ${expected}`);
  return {
    demo,
    blocker: blocker.id,
    jobs,
    positions,
    async release() {
      sim.configure({ tokensPerSecond: 400 });
      await demo.caller.jobs.cancel({ jobId: blocker.id });
    },
  };
}

/**
 * The jobs' ids in the order the scheduler granted them their slots, once every one has completed:
 * when each job's `grant` signal reached the server (its workflow history). (The rows' startedAt is written by
 * each job's own activity, so two jobs granted back to back can record it in either order.)
 */
export async function startOrder(stack: JobStack, jobs: string[]): Promise<string[]> {
  await until(async () => (await stack.prisma.job.count({ where: { id: { in: jobs }, status: 'completed' } })) === jobs.length, 'all jobs to complete');
  const granted = await Promise.all(
    jobs.map(async (id) => {
      const history = await stack.scheduler().client.getHandle(jobWorkflowId(id)).fetchHistory();
      const grant = history.events!.find((event) => event.workflowExecutionSignaledEventAttributes?.signalName === 'grant');
      if (!grant?.eventTime) throw new Error(`job ${id} completed without a grant signal`);
      return { id, at: Number(grant.eventTime.seconds) * 1_000 + (grant.eventTime.nanos ?? 0) / 1e6 };
    }),
  );
  return granted.sort((a, b) => a.at - b.at).map((g) => g.id);
}
