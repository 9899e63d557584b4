import { createHmac, randomBytes } from 'node:crypto';
import { parse, serialize } from 'cookie';
import type { PrismaClient } from '../generated/prisma/client';

export const SESSION_COOKIE = 'sy_session';
const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;

export const sessionUserSelect = { id: true, email: true, name: true, isAdmin: true } as const;
export interface SessionUser {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
}

/**
 * Sessions are random tokens held in an httpOnly cookie; the database stores only their HMAC,
 * so a leaked table cannot be replayed as cookies.
 */
export function createSessionStore(prisma: PrismaClient, secret: string) {
  const idOf = (token: string) => createHmac('sha256', secret).update(token).digest('hex');

  return {
    async create(userId: string): Promise<{ token: string; expiresAt: Date }> {
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
      await prisma.session.create({ data: { id: idOf(token), userId, expiresAt } });
      return { token, expiresAt };
    },

    async getUser(token: string | undefined): Promise<SessionUser | null> {
      if (!token) return null;
      const session = await prisma.session.findUnique({
        where: { id: idOf(token) },
        select: { expiresAt: true, user: { select: sessionUserSelect } },
      });
      if (!session || session.expiresAt.getTime() < Date.now()) return null;
      return session.user;
    },

    async destroy(token: string | undefined): Promise<void> {
      if (token) await prisma.session.deleteMany({ where: { id: idOf(token) } });
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;

export function readSessionToken(cookieHeader: string | null | undefined): string | undefined {
  return cookieHeader ? parse(cookieHeader)[SESSION_COOKIE] : undefined;
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return serialize(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: expiresAt });
}

export function clearedSessionCookie(secure: boolean): string {
  return serialize(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: 0 });
}
