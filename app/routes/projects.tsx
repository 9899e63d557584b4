import type { LoaderFunctionArgs } from '@remix-run/node';
import { Outlet, useLoaderData } from '@remix-run/react';
import { TopBar } from '~/components/TopBar';
import { requireUser } from '~/lib/session.server';

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { id, name, email } = await requireUser(request, context);
  return { user: { id, name, email } };
}

export default function Shell() {
  const { user } = useLoaderData<typeof loader>();
  return (
    <>
      <TopBar user={user} />
      <Outlet />
    </>
  );
}
