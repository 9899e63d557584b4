import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node';
import { Link, useLoaderData } from '@remix-run/react';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction = () => [{ title: 'Projects · Switchyard' }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const [projects, teams] = await Promise.all([caller.projects.list(), caller.teams.list()]);
  return { projects, teams: teams.map(({ id, name, role }) => ({ id, name, role })) };
}

export default function Projects() {
  const { projects, teams } = useLoaderData<typeof loader>();
  return (
    <main className="page">
      <h1>Projects</h1>
      {teams.length === 0 ? (
        <section className="card empty-state stack" aria-labelledby="no-team">
          <h2 id="no-team">You are not in a team yet</h2>
          <p>Projects belong to teams. Start one and invite the people you work with, or open the invite link a teammate sent you.</p>
          <p>
            <Link to="/teams" className="button">
              Create a team
            </Link>
          </p>
        </section>
      ) : projects.length === 0 ? (
        <section className="card empty-state stack" aria-labelledby="no-projects">
          <h2 id="no-projects">No projects yet</h2>
          <p>
            Team owners create projects on the team page:{' '}
            {teams.map((t, i) => (
              <span key={t.id}>
                {i > 0 && ', '}
                <Link to={`/teams/${t.id}`}>{t.name}</Link>
              </span>
            ))}
            .
          </p>
        </section>
      ) : (
        <ul className="cards">
          {projects.map((p) => (
            <li key={p.id} className="card">
              <Link to={`/projects/${p.id}`} className="card-title">
                {p.name}
              </Link>
              <p className="muted">{p.team.name}</p>
              {p.description && <p>{p.description}</p>}
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
