import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse, serialize } from 'cookie';
import type { PrismaClient } from '../generated/prisma/client';

export const SESSION_COOKIE = 'sy_session';
/** Marks a browser that has signed in to an account before: its owner passes that account's sign-in lockout. */
export const DEVICE_COOKIE = 'sy_device';
const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
const DEVICE_TTL_MS = 365 * 24 * 3600 * 1000;

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
  const deviceMac = (body: string) => createHmac('sha256', secret).update(`device:${body}`).digest('base64url');

  /** The session's stored id (what sockets are grouped by), its expiry and its user; null when it is gone or expired. */
  async function get(token: string | undefined): Promise<{ id: string; expiresAt: Date; user: SessionUser } | null> {
    if (!token) return null;
    const session = await prisma.session.findUnique({
      where: { id: idOf(token) },
      select: { id: true, expiresAt: true, user: { select: sessionUserSelect } },
    });
    if (!session || session.expiresAt.getTime() < Date.now()) return null;
    return session;
  }

  return {
    get,
    idOf,

    /** A device token for `userId`'s browser, signed so it cannot be made up for another account. */
    deviceToken(userId: string): { token: string; expiresAt: Date } {
      const body = `${userId}.${randomBytes(16).toString('base64url')}`;
      return { token: `${body}.${deviceMac(body)}`, expiresAt: new Date(Date.now() + DEVICE_TTL_MS) };
    },

    isKnownDevice(token: string | undefined, userId: string): boolean {
      const parts = token?.split('.');
      if (parts?.length !== 3 || parts[0] !== userId) return false;
      const expected = Buffer.from(deviceMac(`${parts[0]}.${parts[1]}`));
      const given = Buffer.from(parts[2]!);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },

    async create(userId: string): Promise<{ token: string; expiresAt: Date }> {
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
      await prisma.session.create({ data: { id: idOf(token), userId, expiresAt } });
      return { token, expiresAt };
    },

    async getUser(token: string | undefined): Promise<SessionUser | null> {
      return (await get(token))?.user ?? null;
    },

    /** Ends the session; its id, or null when there was none. */
    async destroy(token: string | undefined): Promise<string | null> {
      if (!token) return null;
      const { count } = await prisma.session.deleteMany({ where: { id: idOf(token) } });
      return count > 0 ? idOf(token) : null;
    },

    /** Ends every session of `userId` but the one of `keepToken`; their ids. */
    async destroyOthers(userId: string, keepToken: string | undefined): Promise<string[]> {
      const keep = keepToken ? idOf(keepToken) : '';
      const others = await prisma.session.findMany({ where: { userId, id: { not: keep } }, select: { id: true } });
      const ids = others.map((s) => s.id);
      await prisma.session.deleteMany({ where: { id: { in: ids } } });
      return ids;
    },
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;

export function readSessionToken(cookieHeader: string | null | undefined): string | undefined {
  return cookieHeader ? parse(cookieHeader)[SESSION_COOKIE] : undefined;
}

export function readDeviceToken(cookieHeader: string | null | undefined): string | undefined {
  return cookieHeader ? parse(cookieHeader)[DEVICE_COOKIE] : undefined;
}

export function deviceCookie(token: string, expiresAt: Date, secure: boolean): string {
  return serialize(DEVICE_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: expiresAt });
}

export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return serialize(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', secure, path: '/', expires: expiresAt });
}

export function clearedSessionCookie(secure: boolean): string {
  return serialize(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: 0 });
}
