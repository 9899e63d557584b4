import { redirect, type AppLoadContext } from '@remix-run/node';
import { readSessionToken, type SessionUser } from '../../server/auth/session';
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
