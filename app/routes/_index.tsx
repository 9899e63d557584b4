import { redirect, type LoaderFunctionArgs } from '@remix-run/node';
import { getUser } from '~/lib/session.server';

export async function loader({ request, context }: LoaderFunctionArgs) {
  return redirect((await getUser(request, context)) ? '/projects' : '/login');
}
