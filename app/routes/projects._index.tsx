import type { LoaderFunctionArgs, MetaFunction } from '@remix-run/node';
import { Link, useLoaderData } from '@remix-run/react';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction = () => [{ title: 'Projects · Switchyard' }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  return { projects: await caller.projects.list() };
}

export default function Projects() {
  const { projects } = useLoaderData<typeof loader>();
  return (
    <main className="page">
      <h1>Projects</h1>
      {projects.length === 0 ? (
        <p className="empty">You are not in a team with projects yet.</p>
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
