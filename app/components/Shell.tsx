import { Outlet, useLoaderData } from '@remix-run/react';
import type { shellLoader } from '~/lib/shell.server';
import { TopBar } from './TopBar';

/** The signed-in layout: top bar, then the page. */
export function Shell() {
  const { user } = useLoaderData<typeof shellLoader>();
  return (
    <>
      <TopBar user={user} />
      <Outlet />
    </>
  );
}
