import { redirect, type ActionFunctionArgs } from '@remix-run/node';
import { clearedSessionCookie, readSessionToken } from '../../server/auth/session';

export async function action({ request, context }: ActionFunctionArgs) {
  await context.services.auth.signOut(readSessionToken(request.headers.get('cookie')));
  return redirect('/login', { headers: { 'Set-Cookie': clearedSessionCookie(context.secureCookies) } });
}

export const loader = () => redirect('/');
