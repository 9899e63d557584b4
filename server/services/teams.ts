import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { TeamRole } from '../generated/prisma/enums';
import type { SessionUser } from '../auth/session';
import { ForbiddenError, LimitError, NotFoundError, UnavailableError, ValidationError } from '../errors';
import { wellFormed } from './text-input';

/** Inputs shared by the tRPC procedures and the Remix actions that call them. */
export const teamNameInput = wellFormed(z.string().trim().min(2, 'Name the team (at least 2 characters).').max(60, 'Keep the name under 60 characters.'), 'The team name');
export const projectInput = z.object({
  name: wellFormed(z.string().trim().min(1, 'Name the project.').max(80, 'Keep the name under 80 characters.'), 'The project name'),
  description: wellFormed(z.string().trim().max(500, 'Keep the description under 500 characters.'), 'The description').default(''),
});
export const teamRoles = ['owner', 'member'] as const satisfies readonly TeamRole[];

export const DEFAULT_TIER = 'free';

export const teamSummarySelect = {
  id: true,
  name: true,
  slug: true,
  tier: { select: { name: true } },
  _count: { select: { memberships: true, projects: true } },
} satisfies Prisma.TeamSelect;

export const memberSelect = {
  role: true,
  createdAt: true,
  user: { select: { id: true, name: true, email: true } },
} satisfies Prisma.MembershipSelect;

const isUniqueViolation = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

export function slugify(name: string): string {
  const base = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return base || 'team';
}

type Tx = Prisma.TransactionClient;

/**
 * Membership changes of one team run one at a time, so "keep one owner" cannot be raced past, and
 * an invite cannot be created by an owner in the middle of being demoted.
 */
export async function lockTeam(tx: Tx, teamId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM "Team" WHERE "id" = ${teamId}::uuid FOR UPDATE`;
}

/** What an admin sets as the team limit: a number of teams (0: no limit), or null for the default. */
export const teamLimitSetting = z
  .number({ error: 'Teams per person must be a whole number.' })
  .int('Teams per person must be a whole number.')
  .min(0, 'Teams per person cannot be negative (0 means no limit).')
  .max(10_000, 'Teams per person must be at most 10,000.')
  .nullable();

/** `maxTeamsPerUser`: the environment's default (MAX_TEAMS_PER_USER), until an admin sets another. */
export function createTeamService(prisma: PrismaClient, { maxTeamsPerUser }: { maxTeamsPerUser: number }) {
  // Told after a membership ends (removed, left), so live connections can drop the team's rooms.
  const membershipEnded = new Set<(userId: string, teamId: string) => void>();
  const ended = (userId: string, teamId: string) => {
    for (const listener of membershipEnded) listener(userId, teamId);
  };
  const audit = (tx: Tx | PrismaClient, actorId: string, teamId: string, action: string, targetType: string, targetId: string, data: Prisma.InputJsonObject = {}) =>
    tx.auditLog.create({ data: { actorId, teamId, action, targetType, targetId, data } });

  /** The caller's role in the team; a team the caller is not in is not found, whoever asks. */
  async function requireMembership(userId: string, teamId: string): Promise<TeamRole> {
    const membership = await prisma.membership.findUnique({ where: { userId_teamId: { userId, teamId } }, select: { role: true } });
    if (!membership) throw new NotFoundError('team');
    return membership.role;
  }

  async function requireOwner(userId: string, teamId: string, verb: string): Promise<void> {
    if ((await requireMembership(userId, teamId)) !== 'owner') throw new ForbiddenError(`Only a team owner can ${verb}.`);
  }

  /**
   * Inside a locked transaction: an invite speaks for the owner who made it, so it dies when they
   * stop being an owner (demoted, removed, left).
   */
  async function revokeInvitesOf(tx: Tx, actorId: string, teamId: string, ownerId: string, reason: string): Promise<void> {
    const open = await tx.invite.findMany({ where: { teamId, createdById: ownerId, revokedAt: null, usedAt: null }, select: { id: true } });
    if (open.length === 0) return;
    await tx.invite.updateMany({ where: { id: { in: open.map((i) => i.id) } }, data: { revokedAt: new Date() } });
    for (const { id } of open) await audit(tx, actorId, teamId, 'invite.revoke', 'invite', id, { reason });
  }

  /**
   * Inside the creating transaction: refuses a team past the owner's allowance. Counted under a lock
   * per user, so a burst of creates cannot all see the same count.
   */
  async function requireTeamAllowance(tx: Tx, user: SessionUser): Promise<void> {
    if (user.isAdmin) return;
    const { limit } = await teamLimit(tx);
    if (limit === 0) return;
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`switchyard:teams-of:${user.id}`}))`;
    const owned = await tx.membership.count({ where: { userId: user.id, role: 'owner' } });
    if (owned >= limit) {
      throw new LimitError(
        `You already own ${owned} teams, the most one person may own here. Use one of them, or hand one to another owner and leave it, to create another.`,
      );
    }
  }

  /** The limit in force, and whether an admin set it or it is the environment's default. */
  async function teamLimit(db: Tx | PrismaClient): Promise<{ limit: number; setByAdmin: boolean }> {
    const settings = await db.workspaceSettings.findUnique({ where: { id: 1 }, select: { maxTeamsPerUser: true } });
    const set = settings?.maxTeamsPerUser ?? null;
    return set === null ? { limit: maxTeamsPerUser, setByAdmin: false } : { limit: set, setByAdmin: true };
  }

  /** Inside a locked transaction: refuses a change that would leave the team without an owner. */
  async function keepAnOwner(tx: Tx, teamId: string, losingOwner: string, message: string): Promise<void> {
    const others = await tx.membership.count({ where: { teamId, role: 'owner', userId: { not: losingOwner } } });
    if (others === 0) throw new ValidationError(message);
  }

  return {
    requireMembership,
    teamLimit: () => teamLimit(prisma),

    /** An admin sets the team limit (null: back to the default), audited with before and after. */
    async setTeamLimit(actor: SessionUser, value: number | null) {
      const before = await teamLimit(prisma);
      await prisma.$transaction(async (tx) => {
        await tx.workspaceSettings.upsert({ where: { id: 1 }, create: { id: 1, maxTeamsPerUser: value }, update: { maxTeamsPerUser: value } });
        await tx.auditLog.create({
          data: { actorId: actor.id, action: 'settings.teamLimit', targetType: 'settings', targetId: 'maxTeamsPerUser', data: { before: before.setByAdmin ? before.limit : null, after: value } },
        });
      });
      return teamLimit(prisma);
    },
    requireOwner,

    onMembershipEnded(listener: (userId: string, teamId: string) => void): () => void {
      membershipEnded.add(listener);
      return () => membershipEnded.delete(listener);
    },

    list(userId: string) {
      return prisma.membership
        .findMany({
          where: { userId },
          select: { role: true, team: { select: teamSummarySelect } },
          orderBy: { team: { name: 'asc' } },
        })
        .then((rows) => rows.map(({ role, team }) => ({ ...team, role })));
    },

    /** Creates the team on the default tier with `user` as its owner; the slug is made unique. */
    async create(user: SessionUser, name: string) {
      const tier = await prisma.tier.findUnique({ where: { name: DEFAULT_TIER }, select: { id: true } });
      if (!tier) throw new UnavailableError(`The "${DEFAULT_TIER}" tier is missing; an admin must create it.`);
      const base = slugify(name);
      for (let attempt = 0; attempt < 5; attempt++) {
        const slug = attempt === 0 ? base : `${base}-${randomBytes(3).toString('hex')}`;
        try {
          return await prisma.$transaction(async (tx) => {
            await requireTeamAllowance(tx, user);
            const team = await tx.team.create({
              data: { name, slug, tierId: tier.id, memberships: { create: { userId: user.id, role: 'owner' } } },
              select: { id: true, name: true, slug: true },
            });
            await audit(tx, user.id, team.id, 'team.create', 'team', team.id, { name, slug });
            return team;
          });
        } catch (error) {
          if (!isUniqueViolation(error)) throw error;
        }
      }
      throw new UnavailableError('Could not find a free address for this team; try another name.');
    },

    async get(userId: string, teamId: string) {
      const team = await prisma.team.findFirst({
        where: { id: teamId, memberships: { some: { userId } } },
        select: {
          id: true,
          name: true,
          slug: true,
          createdAt: true,
          tier: { select: { name: true } },
          memberships: { select: memberSelect, orderBy: [{ role: 'asc' }, { createdAt: 'asc' }] },
          projects: { select: { id: true, name: true, description: true }, orderBy: { name: 'asc' } },
        },
      });
      if (!team) throw new NotFoundError('team');
      const { memberships, ...rest } = team;
      const members = memberships.map(({ user, role, createdAt }) => ({ ...user, role, joinedAt: createdAt }));
      return { ...rest, members, myRole: members.find((m) => m.id === userId)!.role };
    },

    async createProject(user: SessionUser, teamId: string, input: { name: string; description: string }) {
      await requireOwner(user.id, teamId, 'create projects');
      try {
        return await prisma.$transaction(async (tx) => {
          const project = await tx.project.create({
            data: { teamId, name: input.name, description: input.description },
            select: { id: true, name: true, description: true },
          });
          await audit(tx, user.id, teamId, 'project.create', 'project', project.id, { name: project.name });
          return project;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ValidationError('This team already has a project with that name.', 'name');
        throw error;
      }
    },

    async changeRole(user: SessionUser, teamId: string, memberId: string, role: TeamRole) {
      await requireOwner(user.id, teamId, 'change roles');
      return prisma.$transaction(async (tx) => {
        await lockTeam(tx, teamId);
        const target = await tx.membership.findUnique({ where: { userId_teamId: { userId: memberId, teamId } }, select: { role: true } });
        if (!target) throw new NotFoundError('member');
        if (target.role === role) return { userId: memberId, role };
        if (target.role === 'owner') {
          await keepAnOwner(tx, teamId, memberId, 'A team needs at least one owner: make someone else an owner first.');
          await revokeInvitesOf(tx, user.id, teamId, memberId, 'member.role');
        }
        await tx.membership.update({ where: { userId_teamId: { userId: memberId, teamId } }, data: { role } });
        await audit(tx, user.id, teamId, 'member.role', 'user', memberId, { from: target.role, to: role });
        return { userId: memberId, role };
      });
    },

    async removeMember(user: SessionUser, teamId: string, memberId: string) {
      await requireOwner(user.id, teamId, 'remove members');
      const result = await prisma.$transaction(async (tx) => {
        await lockTeam(tx, teamId);
        const target = await tx.membership.findUnique({ where: { userId_teamId: { userId: memberId, teamId } }, select: { role: true } });
        if (!target) throw new NotFoundError('member');
        if (target.role === 'owner') {
          await keepAnOwner(tx, teamId, memberId, 'A team needs at least one owner: this is the last one.');
        }
        await revokeInvitesOf(tx, user.id, teamId, memberId, 'member.remove');
        await tx.membership.delete({ where: { userId_teamId: { userId: memberId, teamId } } });
        await audit(tx, user.id, teamId, 'member.remove', 'user', memberId, { role: target.role });
        return { userId: memberId };
      });
      ended(memberId, teamId);
      return result;
    },

    async leave(user: SessionUser, teamId: string) {
      await requireMembership(user.id, teamId);
      const result = await prisma.$transaction(async (tx) => {
        await lockTeam(tx, teamId);
        // Read again under the lock: the role may have changed since.
        const mine = await tx.membership.findUnique({ where: { userId_teamId: { userId: user.id, teamId } }, select: { role: true } });
        if (!mine) throw new NotFoundError('team');
        const role = mine.role;
        if (role === 'owner') {
          await keepAnOwner(tx, teamId, user.id, 'You are the last owner: make someone else an owner before leaving.');
        }
        await revokeInvitesOf(tx, user.id, teamId, user.id, 'member.leave');
        await tx.membership.delete({ where: { userId_teamId: { userId: user.id, teamId } } });
        await audit(tx, user.id, teamId, 'member.leave', 'user', user.id, { role });
        return { teamId };
      });
      ended(user.id, teamId);
      return result;
    },
  };
}

export type TeamService = ReturnType<typeof createTeamService>;
