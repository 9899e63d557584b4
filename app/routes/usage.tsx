import { data, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, useLoaderData } from '@remix-run/react';
import { TRPCError } from '@trpc/server';
import { SERIES_COLOURS, UsageChart } from '~/components/UsageChart';
import { TopBar } from '~/components/TopBar';
import { barUser } from '~/lib/shell.server';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction = () => [{ title: 'Usage · Switchyard' }];

const PERIODS = [7, 30, 90] as const;
const GROUPS = [
  ['model', 'Model'],
  ['apiKey', 'API key'],
  ['kind', 'Kind'],
  ['user', 'Person'],
] as const;
type Group = (typeof GROUPS)[number][0];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user, caller } = await requireCaller(request, context);
  const search = new URL(request.url).searchParams;
  const teamId = search.get('teamId') || undefined;
  const days = PERIODS.find((d) => String(d) === search.get('days')) ?? 30;
  const groupBy: Group = GROUPS.find(([g]) => g === search.get('groupBy'))?.[0] ?? 'model';
  const owned = (await caller.teams.list()).filter((team) => team.role === 'owner').map((team) => ({ id: team.id, name: team.name }));
  try {
    const usage = await caller.usage.get({ ...(teamId ? { teamId } : {}), days, groupBy });
    return { user: barUser(user), owned, usage, days };
  } catch (error) {
    // A malformed id, another team and a team one does not own all read as "not yours".
    if (error instanceof TRPCError && ['NOT_FOUND', 'BAD_REQUEST', 'FORBIDDEN'].includes(error.code)) {
      throw data('This team’s usage is for its owners.', { status: 404 });
    }
    throw error;
  }
}

const tokens = (n: number) => Math.round(n).toLocaleString('en-US');
const dollars = (n: number) => (n === 0 ? '$0' : n < 0.01 ? `$${n.toFixed(5)}` : `$${n.toFixed(2)}`);

export default function UsagePage() {
  const { user, owned, usage, days } = useLoaderData<typeof loader>();
  const series = usage.groups.map((g) => ({ key: g.key, label: g.label }));
  const values = (field: 'tokens' | 'costUsd' | 'jobs') => {
    const byDay = new Map<string, Map<string, number>>();
    for (const row of usage.rows) byDay.set(row.day, (byDay.get(row.day) ?? new Map()).set(row.key, row[field]));
    return byDay;
  };
  const query = new URLSearchParams({ ...(usage.teamId ? { teamId: usage.teamId } : {}), days: String(days), groupBy: usage.groupBy });
  const heading = GROUPS.find(([g]) => g === usage.groupBy)![1];
  const teamName = owned.find((t) => t.id === usage.teamId)?.name;

  return (
    <>
      <TopBar user={user} />
      <main className="page stack">
        <header className="project-header">
          <h1>Usage</h1>
          <p className="muted">
            {teamName ? `All of ${teamName}’s usage` : 'Your usage in your teams'}: tokens, cost and jobs per UTC day. Every model
            request counts — failed and retried attempts and reviews too.
          </p>
        </header>
        <Form method="get" className="card usage-filters" aria-label="What to show">
          <label>
            Whose
            <select name="teamId" defaultValue={usage.teamId ?? ''}>
              <option value="">Mine</option>
              {owned.map((team) => (
                <option key={team.id} value={team.id}>
                  Team {team.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Period
            <select name="days" defaultValue={String(days)}>
              {PERIODS.map((d) => (
                <option key={d} value={d}>
                  Last {d} days
                </option>
              ))}
            </select>
          </label>
          <label>
            Group by
            <select name="groupBy" defaultValue={usage.groupBy}>
              {GROUPS.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Show</button>
          <a href={`/usage.csv?${query}`} download>
            Download CSV
          </a>
        </Form>
        <section className="card stack" aria-labelledby="usage-charts">
          <h2 id="usage-charts">
            {usage.from} to {usage.to}
          </h2>
          {usage.groups.length === 0 ? (
            <p className="empty">No usage in this period.</p>
          ) : (
            <>
              <ul className="usage-legend" aria-label="Series">
                {series.map((s, n) => (
                  <li key={s.key}>
                    <span className={`usage-swatch usage-series-${n % SERIES_COLOURS}`} aria-hidden="true" />
                    {s.label}
                  </li>
                ))}
              </ul>
              <div className="usage-charts">
                <UsageChart title="Tokens" days={usage.days} series={series} values={values('tokens')} format={tokens} />
                <UsageChart title="Cost" days={usage.days} series={series} values={values('costUsd')} format={dollars} />
                <UsageChart title="Jobs" days={usage.days} series={series} values={values('jobs')} format={tokens} />
              </div>
            </>
          )}
          <table className="data-table" aria-label={`Usage by ${heading.toLowerCase()}`}>
            <thead>
              <tr>
                <th scope="col">{heading}</th>
                <th scope="col">Prompt tokens</th>
                <th scope="col">Completion tokens</th>
                <th scope="col">Cost</th>
                <th scope="col">Requests</th>
                <th scope="col">Jobs</th>
              </tr>
            </thead>
            <tbody>
              {usage.groups.map((g) => (
                <tr key={g.key}>
                  <th scope="row">{g.label}</th>
                  <td>{tokens(g.promptTokens)}</td>
                  <td>{tokens(g.completionTokens)}</td>
                  <td>{dollars(g.costUsd)}</td>
                  <td>{tokens(g.requests)}</td>
                  <td>{tokens(g.jobs)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">All</th>
                <td>{tokens(usage.totals.promptTokens)}</td>
                <td>{tokens(usage.totals.completionTokens)}</td>
                <td>{dollars(usage.totals.costUsd)}</td>
                <td>{tokens(usage.totals.requests)}</td>
                <td>{tokens(usage.totals.jobs)}</td>
              </tr>
            </tfoot>
          </table>
        </section>
      </main>
    </>
  );
}
