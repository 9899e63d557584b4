import { randomBytes } from 'node:crypto';
import { hashPassword } from '../server/auth/password';
import { createPrisma } from '../server/db/client';
import { loadStackEnv } from '../server/env';

export interface E2eUser {
  name: string;
  email: string;
  password: string;
}

/**
 * Users, teams and projects written straight to the stack's database (faster than signing up
 * through the UI, which teams.spec.ts covers), removed again by `cleanup`. The stack's simulator
 * backends are reachable too, to slow generation down while a test watches it.
 */
export async function openTestData() {
  const url = loadStackEnv().DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the e2e tests through `playwright test`.');
  const prisma = createPrisma(url);
  const suffix = randomBytes(3).toString('hex');
  const teams: string[] = [];
  const users: string[] = [];

  return {
    suffix,
    /** A premium team with a project and these members (the first one owns it). */
    async team(name: string, members: string[]) {
      const tier = await prisma.tier.findUniqueOrThrow({ where: { name: 'premium' } });
      const accounts: E2eUser[] = [];
      const passwordHash = await hashPassword('e2e-password-123');
      const team = await prisma.team.create({
        data: { name: `${name} ${suffix}`, slug: `${name.toLowerCase().replace(/\W+/g, '-')}-${suffix}`, tierId: tier.id },
      });
      teams.push(team.id);
      for (const [i, member] of members.entries()) {
        const account = { name: `${member} ${suffix}`, email: `${member.toLowerCase()}-${suffix}@example.com`, password: 'e2e-password-123' };
        const user = await prisma.user.create({ data: { name: account.name, email: account.email, passwordHash } });
        users.push(user.id);
        await prisma.membership.create({ data: { userId: user.id, teamId: team.id, role: i === 0 ? 'owner' : 'member' } });
        accounts.push(account);
      }
      const project = await prisma.project.create({ data: { teamId: team.id, name: `${name} Project` } });
      return { id: team.id, name: team.name, project: { id: project.id, name: project.name }, members: accounts };
    },

    /**
     * Multiplies every simulated backend's generation time (1 = normal speed). The model is loaded
     * on each backend first, at normal speed: a slowed-down load would outlast the generation
     * activity's heartbeat timeout before the first token.
     */
    async slowGeneration(factor: number, model = 'qwen2.5-coder:7b') {
      const backends = await prisma.backend.findMany({ where: { kind: 'ollama' }, select: { url: true } });
      for (const { url } of backends) {
        const post = async (route: string, body: unknown) => {
          const response = await fetch(new URL(route, url), { method: 'POST', body: JSON.stringify(body) });
          if (!response.ok) throw new Error(`simulator at ${url}: ${route} answered ${response.status}`);
          await response.arrayBuffer();
        };
        if (factor !== 1) await post('/api/generate', { model, prompt: 'load', stream: false, options: { num_predict: 1 } });
        await post('/_sim/faults', { slowdownFactor: factor });
      }
    },

    /**
     * A job row as a worker leaves it mid-run (running, some output), written straight to the
     * database with no workflow behind it: what the page can know without asking Temporal.
     */
    async runningJob(team: { id: string; project: { id: string }; members: E2eUser[] }, requirements: string, output: string) {
      const user = await prisma.user.findUniqueOrThrow({ where: { email: team.members[0]!.email }, select: { id: true } });
      const id = crypto.randomUUID();
      await prisma.job.create({
        data: {
          id,
          teamId: team.id,
          projectId: team.project.id,
          userId: user.id,
          clientKey: `e2e-${id}`,
          requirements,
          model: 'qwen2.5-coder:7b',
          workflowId: `e2e-no-workflow-${id}`,
          status: 'running',
          output,
          attempts: 1,
          startedAt: new Date(),
        },
      });
      return id;
    },

    /** The id of the job with these requirements (tests make them unique with the suffix). */
    async jobIdOf(requirements: string) {
      return (await prisma.job.findFirstOrThrow({ where: { requirements }, select: { id: true } })).id;
    },

    /** What the audit log holds about a team, oldest first. */
    async auditOf(teamId: string) {
      return (await prisma.auditLog.findMany({ where: { teamId }, select: { action: true }, orderBy: { createdAt: 'asc' } })).map((row) => row.action);
    },

    async cleanup() {
      await prisma.team.deleteMany({ where: { id: { in: teams } } });
      await prisma.user.deleteMany({ where: { id: { in: users } } });
      await prisma.$disconnect();
    },
  };
}
