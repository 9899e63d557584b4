import type { LoaderFunctionArgs } from '@remix-run/node';
import { Form, Link, Outlet, useLoaderData } from '@remix-run/react';
import { requireUser } from '~/lib/session.server';

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { name, email } = await requireUser(request, context);
  return { user: { name, email } };
}

export default function Shell() {
  const { user } = useLoaderData<typeof loader>();
  return (
    <>
      <header className="topbar">
        <Link to="/projects" className="brand">
          Switchyard
        </Link>
        <nav className="topbar-user">
          <span title={user.email}>{user.name}</span>
          <Form method="post" action="/logout">
            <button type="submit" className="link">
              Sign out
            </button>
          </Form>
        </nav>
      </header>
      <Outlet />
    </>
  );
}
