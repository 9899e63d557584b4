import { useMutation, useQuery } from '@tanstack/react-query';
import { Link } from '@remix-run/react';
import { useState } from 'react';
import { useSocketEvent } from '~/lib/socket';
import { useTRPC } from '~/lib/trpc';
import { useRefresh } from '~/lib/use-refresh';

const jobLink = (item: { projectId: string; jobId: string }) => `/projects/${item.projectId}?job=${item.jobId}`;

/** Whether this browser can show system notifications, and what it was told. */
const browserPermission = (): NotificationPermission | 'unsupported' => (typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

/**
 * The unread count in the top bar and the latest notifications under it. New ones arrive over the
 * socket (the user's own room); while the tab is hidden they are also shown by the browser, once
 * the person allowed it with a click here (browsers only ask from a gesture).
 */
export function NotificationBell() {
  const trpc = useTRPC();
  const list = useQuery(trpc.notifications.list.queryOptions({}));
  const refresh = useRefresh(() => list.refetch());
  const markRead = useMutation(trpc.notifications.markRead.mutationOptions({ onSuccess: refresh }));
  const [open, setOpen] = useState(false);
  const [permission, setPermission] = useState(browserPermission);

  useSocketEvent('notification', (event) => {
    refresh();
    if (document.visibilityState === 'hidden' && browserPermission() === 'granted') {
      const shown = new Notification(event.title, { body: 'Switchyard', tag: event.id });
      shown.onclick = () => {
        window.focus();
        window.location.assign(jobLink(event));
      };
    }
  });

  const unread = list.data?.unread ?? 0;
  return (
    <div className="bell">
      <button type="button" className="link" aria-expanded={open} aria-haspopup="true" onClick={() => setOpen((o) => !o)} aria-label={`Notifications, ${unread} unread`}>
        Notifications{unread > 0 && <span className="bell-count" data-testid="unread-count">{unread}</span>}
      </button>
      {open && (
        <div className="bell-menu card" role="region" aria-label="Notifications">
          <div className="row spread">
            <strong>Notifications</strong>
            {unread > 0 && (
              <button type="button" className="link" onClick={() => markRead.mutate({ all: true })}>
                Mark all read
              </button>
            )}
          </div>
          {list.data && list.data.items.length === 0 && <p className="muted">Nothing yet: you will hear here when your jobs end.</p>}
          <ul className="bell-list">
            {list.data?.items.map((item) => (
              <li key={item.id} className={item.readAt ? 'read' : 'unread'}>
                <Link
                  to={jobLink(item)}
                  onClick={() => {
                    setOpen(false);
                    if (!item.readAt) markRead.mutate({ ids: [item.id] });
                  }}
                >
                  {item.title}
                </Link>
                <time className="muted" dateTime={String(item.createdAt)}>
                  {new Date(item.createdAt).toLocaleString()}
                </time>
              </li>
            ))}
          </ul>
          {permission === 'default' && (
            <button type="button" className="secondary" onClick={() => void Notification.requestPermission().then(setPermission)}>
              Desktop alerts
            </button>
          )}
          {permission === 'denied' && <p className="muted">Desktop alerts are blocked in this browser’s settings.</p>}
        </div>
      )}
    </div>
  );
}
