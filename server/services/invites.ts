import { createHash, randomBytes } from 'node:crypto';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { SessionUser } from '../auth/session';
import { ForbiddenError, NotFoundError } from '../errors';
import { lockTeam, type TeamService } from './teams';

export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;

/** Not found, with the reason in words: the holder of a link deserves to know why it stopped working. */
function unusable(reason: keyof typeof INVITE_UNUSABLE): NotFoundError {
  const error = new NotFoundError('invite');
  error.message = INVITE_UNUSABLE[reason];
  return error;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export const inviteSelect = {
  id: true,
  createdAt: true,
  expiresAt: true,
  createdBy: { select: { id: true, name: true } },
} satisfies Prisma.InviteSelect;

/** Why a token cannot be used; the same words on the invite page and in the API. */
export const INVITE_UNUSABLE = {
  unknown: 'This invite link is not valid. Ask a team owner for a new one.',
  revoked: 'This invite link was revoked. Ask a team owner for a new one.',
  used: 'This invite link has already been used. Ask a team owner for a new one.',
  expired: 'This invite link has expired. Ask a team owner for a new one.',
} as const;

export function createInviteService({ prisma, teams, now = () => new Date() }: { prisma: PrismaClient; teams: TeamService; now?: () => Date }) {
  async function find(token: string) {
    const invite = await prisma.invite.findUnique({
      where: { tokenHash: hashToken(token) },
      select: { id: true, teamId: true, expiresAt: true, revokedAt: true, usedAt: true, team: { select: { id: true, name: true } }, createdBy: { select: { name: true } } },
    });
    if (!invite) throw unusable('unknown');
    return invite;
  }

  type Found = Awaited<ReturnType<typeof find>>;
  function requireUsable(invite: Found): void {
    if (invite.revokedAt) throw unusable('revoked');
    if (invite.usedAt) throw unusable('used');
    if (invite.expiresAt.getTime() <= now().getTime()) throw unusable('expired');
  }

  const isMember = async (userId: string, teamId: string) => (await prisma.membership.count({ where: { userId, teamId } })) > 0;

  return {
    /** A new single-use link; the token is returned once and only its hash is kept. */
    async create(user: SessionUser, teamId: string) {
      await teams.requireOwner(user.id, teamId, 'invite people');
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(now().getTime() + INVITE_TTL_MS);
      return prisma.$transaction(async (tx) => {
        // Read the role again under the team's lock: a demotion that commits first revokes the
        // demoted owner's invites, and this one must not slip in after it.
        await lockTeam(tx, teamId);
        const membership = await tx.membership.findUnique({ where: { userId_teamId: { userId: user.id, teamId } }, select: { role: true } });
        if (membership?.role !== 'owner') throw new ForbiddenError('Only a team owner can invite people.');
        const invite = await tx.invite.create({
          data: { teamId, tokenHash: hashToken(token), createdById: user.id, expiresAt },
          select: inviteSelect,
        });
        await tx.auditLog.create({
          data: { actorId: user.id, teamId, action: 'invite.create', targetType: 'invite', targetId: invite.id, data: { expiresAt: expiresAt.toISOString() } },
        });
        return { ...invite, token };
      });
    },

    /** Invites that can still be used. */
    async list(user: SessionUser, teamId: string) {
      await teams.requireOwner(user.id, teamId, 'see invites');
      return prisma.invite.findMany({
        where: { teamId, revokedAt: null, usedAt: null, expiresAt: { gt: now() } },
        select: inviteSelect,
        orderBy: { createdAt: 'desc' },
      });
    },

    async revoke(user: SessionUser, teamId: string, inviteId: string) {
      await teams.requireOwner(user.id, teamId, 'revoke invites');
      return prisma.$transaction(async (tx) => {
        // teamId in the where: an invite of another team is not found, even for its id.
        const { count } = await tx.invite.updateMany({ where: { id: inviteId, teamId, revokedAt: null, usedAt: null }, data: { revokedAt: now() } });
        if (count === 0) {
          if ((await tx.invite.count({ where: { id: inviteId, teamId } })) === 0) throw new NotFoundError('invite');
          return { id: inviteId };
        }
        await tx.auditLog.create({ data: { actorId: user.id, teamId, action: 'invite.revoke', targetType: 'invite', targetId: inviteId } });
        return { id: inviteId };
      });
    },

    /** What the invite page shows before the user accepts. */
    async preview(user: SessionUser, token: string) {
      const invite = await find(token);
      // A member following a link again (even a used one, likely their own) is simply pointed at the team.
      const alreadyMember = await isMember(user.id, invite.teamId);
      if (!alreadyMember) requireUsable(invite);
      return { team: invite.team, invitedBy: invite.createdBy.name, expiresAt: invite.expiresAt, alreadyMember };
    },

    /**
     * Joins the team as a member and uses the invite up. A member following the link again just
     * lands in the team, leaving the invite for whoever it was meant for.
     */
    async accept(user: SessionUser, token: string) {
      const invite = await find(token);
      const teamId = invite.teamId;
      if (await isMember(user.id, teamId)) return { teamId, joined: false };
      requireUsable(invite);
      return prisma.$transaction(async (tx) => {
        // The claim is conditional, so two people racing for one link cannot both get in.
        const claimed = await tx.invite.updateMany({
          where: { id: invite.id, revokedAt: null, usedAt: null, expiresAt: { gt: now() } },
          data: { usedAt: now(), usedById: user.id },
        });
        if (claimed.count === 0) throw unusable('used');
        await tx.membership.upsert({
          where: { userId_teamId: { userId: user.id, teamId } },
          create: { userId: user.id, teamId, role: 'member' },
          update: {},
        });
        await tx.auditLog.create({ data: { actorId: user.id, teamId, action: 'member.join', targetType: 'invite', targetId: invite.id } });
        return { teamId, joined: true };
      });
    },
  };
}

export type InviteService = ReturnType<typeof createInviteService>;
