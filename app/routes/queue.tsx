import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node';
import { useLoaderData } from '@remix-run/react';
import { QueueView } from '~/components/QueueView';
import { TopBar } from '~/components/TopBar';
import { barUser } from '~/lib/shell.server';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction = () => [{ title: 'Queue · Switchyard' }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user, caller } = await requireCaller(request, context);
  return { user: barUser(user), queue: await caller.queue.get() };
}

export default function QueuePage() {
  const { user, queue } = useLoaderData<typeof loader>();
  return (
    <>
      <TopBar user={user} />
      <main className="page queue-page">
        <header className="project-header">
          <h1>Queue</h1>
          <p className="muted">
            Every pool’s jobs in the order the scheduler will start them. Your teams’ jobs are shown in full; other
            teams’ only as counts. Live.
          </p>
        </header>
        <QueueView initial={queue} userId={user.id} />
      </main>
    </>
  );
}
