import { useRouteLoaderData } from '@remix-run/react';
import { useState } from 'react';
import type { PresenceUser } from '../../server/realtime/events';
import { useRoom } from '~/lib/socket';

interface ShellData {
  user: { id: string };
}

/** "Also here: Ana, Ben" — the other people with this project open now. */
export function Presence({ projectId }: { projectId: string }) {
  const me = useRouteLoaderData<ShellData>('routes/projects')?.user.id;
  const [users, setUsers] = useState<PresenceUser[] | null>(null);
  useRoom({ kind: 'project', id: projectId }, {
    presence: (event) => {
      if (event.projectId === projectId) setUsers(event.users);
    },
  });
  const others = users?.filter((u) => u.id !== me) ?? [];
  // Nothing until the first snapshot, rather than a guess that flickers.
  return (
    <p className="presence muted" aria-live="polite" data-testid="presence">
      {users === null ? '\u00a0' : others.length > 0 ? `Also here: ${others.map((u) => u.name).join(', ')}` : 'Only you are here right now.'}
    </p>
  );
}
