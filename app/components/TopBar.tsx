import { Form, Link, NavLink } from '@remix-run/react';
import { NotificationBell } from './NotificationBell';

/** The signed-in top bar: where you are, who you are, and the way out. */
export function TopBar({ user }: { user: { name: string; email: string; isAdmin: boolean } }) {
  return (
    <header className="topbar">
      <Link to="/projects" className="brand">
        Switchyard
      </Link>
      <nav className="topbar-nav" aria-label="Main">
        <NavLink to="/projects">Projects</NavLink>
        <NavLink to="/teams">Teams</NavLink>
        <NavLink to="/queue">Queue</NavLink>
        <NavLink to="/usage">Usage</NavLink>
        <NavLink to="/settings/keys">API keys</NavLink>
        <NavLink to="/settings" end>
          Account
        </NavLink>
        {user.isAdmin && <NavLink to="/admin">Admin</NavLink>}
      </nav>
      <div className="topbar-user">
        <NotificationBell />
        <span title={user.email}>{user.name}</span>
        <Form method="post" action="/logout">
          <button type="submit" className="link">
            Sign out
          </button>
        </Form>
      </div>
    </header>
  );
}
