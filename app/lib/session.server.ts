import { redirect, type AppLoadContext } from '@remix-run/node';
import { deviceCookie, readSessionToken, sessionCookie, type SessionUser } from '../../server/auth/session';
import { createCaller } from '../../server/trpc/root';

export function getUser(request: Request, context: AppLoadContext): Promise<SessionUser | null> {
  return context.services.sessions.getUser(readSessionToken(request.headers.get('cookie')));
}

export async function requireUser(request: Request, context: AppLoadContext): Promise<SessionUser> {
  const user = await getUser(request, context);
  if (!user) {
    const { pathname, search } = new URL(request.url);
    throw redirect(`/login?redirectTo=${encodeURIComponent(pathname + search)}`);
  }
  return user;
}

/** The same procedures the browser calls over HTTP, called in-process from loaders. */
export async function requireCaller(request: Request, context: AppLoadContext) {
  const user = await requireUser(request, context);
  return { user, caller: createCaller({ services: context.services, user }) };
}

/** The cookies of a session just started: the session's, and the device's that marks this browser as known to the account. */
export function signedInHeaders(
  started: { token: string; expiresAt: Date; device: { token: string; expiresAt: Date } },
  context: AppLoadContext,
): Headers {
  const headers = new Headers();
  headers.append('Set-Cookie', sessionCookie(started.token, started.expiresAt, context.secureCookies));
  headers.append('Set-Cookie', deviceCookie(started.device.token, started.device.expiresAt, context.secureCookies));
  return headers;
}
