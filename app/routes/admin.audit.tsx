import { data, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useLoaderData } from '@remix-run/react';
import { formErrorsFrom } from '~/lib/forms.server';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction = () => [{ title: 'Audit log · Admin · Switchyard' }];

/** A date field's day as the start (from) or the last instant (to) of that day, in UTC. */
const dayBound = (value: string, end: boolean) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T${end ? '23:59:59.999' : '00:00:00.000'}Z` : value);

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const params = new URL(request.url).searchParams;
  const search = { who: params.get('who') ?? '', what: params.get('what') ?? '', from: params.get('from') ?? '', to: params.get('to') ?? '' };
  const cursor = params.get('cursor') ?? '';
  try {
    const page = await caller.admin.audit({
      ...(search.who ? { who: search.who } : {}),
      ...(search.what ? { what: search.what } : {}),
      ...(search.from ? { from: dayBound(search.from, false) } : {}),
      ...(search.to ? { to: dayBound(search.to, true) } : {}),
      ...(cursor ? { cursor } : {}),
    });
    return { search, page, error: null };
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ search, page: null, error: Object.values(errors.fieldErrors)[0] ?? errors.formError ?? 'Refused.' }, { status: errors.status });
  }
}

// One fixed locale and UTC: the server renders this page, and the browser must hydrate the same text.
const when = (at: string | Date) => `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

export default function AuditPage() {
  const { search, page, error } = useLoaderData<typeof loader>();
  const older = page?.nextCursor ? `?${new URLSearchParams({ ...search, cursor: page.nextCursor }).toString()}` : null;
  return (
    <main className="page stack">
      <p>
        <Link to="/admin">← Admin</Link>
      </p>
      <h1>Audit log</h1>
      <Form method="get" className="row" aria-label="Search the audit log">
        <label>
          Who
          <input name="who" defaultValue={search.who} placeholder="email or name" />
        </label>
        <label>
          What
          <input name="what" defaultValue={search.what} placeholder="e.g. job.cancel" />
        </label>
        <label>
          From
          <input name="from" type="date" defaultValue={search.from} />
        </label>
        <label>
          To
          <input name="to" type="date" defaultValue={search.to} />
        </label>
        <button type="submit">Search</button>
      </Form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {page && (
        <div className="table-scroll">
          <table className="data-table" aria-label="Audit entries">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">On</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {page.entries.length === 0 && (
                <tr>
                  <td colSpan={5} className="empty">
                    No entry matches.
                  </td>
                </tr>
              )}
              {page.entries.map((entry) => (
                <tr key={entry.id}>
                  <td>{when(entry.createdAt)}</td>
                  <td>{entry.actor ? `${entry.actor.name} (${entry.actor.email})` : 'a removed account'}</td>
                  <th scope="row">{entry.action}</th>
                  <td>
                    {entry.targetType} <code>{entry.targetId}</code>
                  </td>
                  <td>
                    <code>{JSON.stringify(entry.data)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {older && <Link to={older}>Older entries</Link>}
    </main>
  );
}
