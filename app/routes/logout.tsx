import { redirect, type ActionFunctionArgs } from '@remix-run/node';
import { clearedSessionCookie, readSessionToken } from '../../server/auth/session';

export async function action({ request, context }: ActionFunctionArgs) {
  await context.services.auth.signOut(readSessionToken(request.headers.get('cookie')));
  const secure = new URL(request.url).protocol === 'https:';
  return redirect('/login', { headers: { 'Set-Cookie': clearedSessionCookie(secure) } });
}

export const loader = () => redirect('/');
