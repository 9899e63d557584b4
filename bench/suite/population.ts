import { randomUUID } from 'node:crypto';
import { hashPassword } from '../../server/auth/password';
import { createSessionStore, SESSION_COOKIE } from '../../server/auth/session';
import { createPrisma } from '../../server/db/client';

/**
 * The users of one scenario, written straight to the database: signing 5,000 users in through
 * the login form would spend minutes of the web process's CPU on argon2 (and hit the sign-in
 * rate limit) before the benchmark starts. Sessions are made by the same store the web process
 * reads them with, so every request is authenticated as it is for a browser.
 */

export interface BenchUser {
  cookie: string;
  projectId: string;
  teamId: string;
}

export interface BenchTeamRoom {
  teamId: string;
  projectId: string;
  /** Session of the team's first member, who watches the team's rooms. */
  cookie: string;
}

export interface Population {
  users: BenchUser[];
  teams: BenchTeamRoom[];
}

/**
 * `count` users in teams of `perTeam` on the seeded premium tier (whose per-user caps admit the one
 * job each user submits), one project per team, one session per user.
 */
export async function createPopulation(
  databaseUrl: string,
  sessionSecret: string,
  count: number,
  perTeam: number,
  label: string,
): Promise<Population> {
  const prisma = createPrisma(databaseUrl);
  try {
    const tier = await prisma.tier.findUniqueOrThrow({ where: { name: 'premium' }, select: { id: true } });
    const passwordHash = await hashPassword(randomUUID());
    const sessions = createSessionStore(prisma, sessionSecret);
    const users: BenchUser[] = [];
    const teams: BenchTeamRoom[] = [];
    for (let start = 0, t = 0; start < count; start += perTeam, t++) {
      const size = Math.min(perTeam, count - start);
      const teamId = randomUUID();
      const projectId = randomUUID();
      const userIds = Array.from({ length: size }, () => randomUUID());
      await prisma.$transaction([
        prisma.team.create({ data: { id: teamId, name: `Bench ${label} ${t}`, slug: `bench-${label}-${t}`, tierId: tier.id } }),
        prisma.project.create({ data: { id: projectId, teamId, name: 'Bench project' } }),
        prisma.user.createMany({
          data: userIds.map((id, i) => ({ id, email: `${label}-${start + i}@bench.local`, name: `Bench user ${start + i}`, passwordHash })),
        }),
        prisma.membership.createMany({ data: userIds.map((userId, i) => ({ userId, teamId, role: i === 0 ? 'owner' : 'member' })) }),
      ]);
      const cookies = await Promise.all(userIds.map(async (id) => `${SESSION_COOKIE}=${(await sessions.create(id)).token}`));
      users.push(...cookies.map((cookie) => ({ cookie, projectId, teamId })));
      teams.push({ teamId, projectId, cookie: cookies[0]! });
    }
    return { users, teams };
  } finally {
    await prisma.$disconnect();
  }
}
