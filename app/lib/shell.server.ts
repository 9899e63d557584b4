import type { LoaderFunctionArgs } from '@remix-run/node';
import { requireUser } from './session.server';

/** Loader of the signed-in layouts (/projects, /teams, /admin): the user the top bar shows. */
export async function shellLoader({ request, context }: LoaderFunctionArgs) {
  return { user: barUser(await requireUser(request, context)) };
}

/** What the top bar shows of the signed-in user, for pages that render it outside a layout. */
export function barUser({ id, name, email, isAdmin }: { id: string; name: string; email: string; isAdmin: boolean }) {
  return { id, name, email, isAdmin };
}
