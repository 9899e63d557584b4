import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Prisma, PrismaClient, Tier } from '../generated/prisma/client';
import { sessionUserSelect, type SessionUser } from '../auth/session';
import { NotFoundError, UnauthorizedError, ValidationError } from '../errors';
import type { TeamService } from './teams';

/**
 * Personal API keys. A key acts as its user in one team: its jobs are billed to the team, scheduled
 * with the team's tier and filed in the team's "API" project. Keys are random, shown once, and
 * stored as an HMAC (like sessions), so a leaked table authenticates nothing. Its user sees and
 * revokes their own keys; a team owner also sees and revokes every key of the team.
 */

export const KEY_PREFIX = 'sy_';
/** What the list shows of a key: its prefix and this many characters after it. */
const SHOWN_CHARS = 6;
/** The project API jobs are filed in, made on a team's first key. */
export const API_PROJECT = 'API';
/** lastUsedAt is written at most this often per key: every request writing it would serialise a busy key's requests on one row. */
const LAST_USED_RESOLUTION_MS = 60_000;

export const apiKeyCreateInput = z.object({
  teamId: z.uuid(),
  name: z.string().trim().min(1, 'Name the key (e.g. the tool that will use it).').max(60, 'Keep the name under 60 characters.'),
  expiresAt: z.coerce.date().optional(),
});
export type ApiKeyCreateInput = z.infer<typeof apiKeyCreateInput>;

export const apiKeySelect = {
  id: true,
  name: true,
  prefix: true,
  expiresAt: true,
  lastUsedAt: true,
  createdAt: true,
  team: { select: { id: true, name: true } },
  user: { select: { id: true, name: true } },
} satisfies Prisma.ApiKeySelect;

/** The caller of an API request: the key's user in the key's team (with its tier), as admission needs them. */
export interface ApiCaller {
  key: { id: string; name: string; projectId: string };
  user: SessionUser;
  team: { id: string; name: string; tier: Tier };
}

export function createApiKeyService({ prisma, teams, secret, now = () => new Date() }: { prisma: PrismaClient; teams: TeamService; secret: string; now?: () => Date }) {
  const hashOf = (key: string) => createHmac('sha256', `api-key:${secret}`).update(key).digest('hex');
  /** Keys the user may see and revoke: their own, and every key of a team they own. */
  const visibleTo = (userId: string) =>
    ({ revokedAt: null, OR: [{ userId }, { team: { memberships: { some: { userId, role: 'owner' } } } }] }) satisfies Prisma.ApiKeyWhereInput;

  return {
    /** A new key for a team the user is in; the key itself is returned here and never again. */
    async create(user: SessionUser, input: ApiKeyCreateInput) {
      await teams.requireMembership(user.id, input.teamId);
      if (input.expiresAt && input.expiresAt.getTime() <= now().getTime()) {
        throw new ValidationError('Choose an expiry in the future, or none.', 'expiresAt');
      }
      const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
      return prisma.$transaction(async (tx) => {
        const project = await tx.project.upsert({
          where: { teamId_name: { teamId: input.teamId, name: API_PROJECT } },
          create: { teamId: input.teamId, name: API_PROJECT, description: 'Requests sent with personal API keys.' },
          update: {},
          select: { id: true },
        });
        const created = await tx.apiKey.create({
          data: {
            userId: user.id,
            teamId: input.teamId,
            projectId: project.id,
            name: input.name,
            tokenHash: hashOf(key),
            prefix: key.slice(0, KEY_PREFIX.length + SHOWN_CHARS),
            expiresAt: input.expiresAt ?? null,
          },
          select: { id: true },
        });
        await tx.auditLog.create({
          data: {
            actorId: user.id,
            teamId: input.teamId,
            action: 'apiKey.create',
            targetType: 'apiKey',
            targetId: created.id,
            data: { name: input.name, expiresAt: input.expiresAt?.toISOString() ?? null },
          },
        });
        return { id: created.id, key };
      });
    },

    /** The user's keys and those of the teams they own that are not revoked, newest first; expired ones included (marked by expiresAt). */
    list(user: SessionUser) {
      return prisma.apiKey.findMany({ where: visibleTo(user.id), select: apiKeySelect, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
    },

    async revoke(user: SessionUser, id: string) {
      return prisma.$transaction(async (tx) => {
        const key = await tx.apiKey.findFirst({ where: { id, ...visibleTo(user.id) }, select: { id: true, teamId: true, name: true } });
        if (!key) throw new NotFoundError('API key');
        // Conditional, so two revokes of one key audit once.
        const { count } = await tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now() } });
        if (count > 0) {
          await tx.auditLog.create({
            data: { actorId: user.id, teamId: key.teamId, action: 'apiKey.revoke', targetType: 'apiKey', targetId: id, data: { name: key.name } },
          });
        }
        return { id };
      });
    },

    /**
     * The caller a bearer key stands for, or an UnauthorizedError saying why not (unknown, revoked,
     * expired, or its user no longer in its team). Records the use.
     */
    async authenticate(key: string | undefined): Promise<ApiCaller> {
      if (!key) throw new UnauthorizedError('Send your Switchyard API key as "Authorization: Bearer <key>".');
      const found = await prisma.apiKey.findUnique({
        where: { tokenHash: hashOf(key) },
        select: {
          id: true,
          name: true,
          projectId: true,
          expiresAt: true,
          revokedAt: true,
          lastUsedAt: true,
          user: { select: sessionUserSelect },
          team: { select: { id: true, name: true, tier: true } },
        },
      });
      if (!found) throw new UnauthorizedError('This API key is not valid.');
      if (found.revokedAt) throw new UnauthorizedError(`The API key "${found.name}" was revoked.`);
      const at = now();
      if (found.expiresAt && found.expiresAt.getTime() <= at.getTime()) throw new UnauthorizedError(`The API key "${found.name}" expired.`);
      const member = await prisma.membership.count({ where: { userId: found.user.id, teamId: found.team.id } });
      if (member === 0) {
        throw new UnauthorizedError(`The API key "${found.name}" belongs to someone no longer in ${found.team.name}.`);
      }
      if (!found.lastUsedAt || at.getTime() - found.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
        await prisma.apiKey.update({ where: { id: found.id }, data: { lastUsedAt: at } });
      }
      return { key: { id: found.id, name: found.name, projectId: found.projectId }, user: found.user, team: found.team };
    },
  };
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>;
