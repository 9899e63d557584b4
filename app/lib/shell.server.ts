import type { LoaderFunctionArgs } from '@remix-run/node';
import { requireUser } from './session.server';

/** Loader of the signed-in layouts (/projects, /teams, /admin): the user the top bar shows. */
export async function shellLoader({ request, context }: LoaderFunctionArgs) {
  const { id, name, email, isAdmin } = await requireUser(request, context);
  return { user: { id, name, email, isAdmin } };
}
