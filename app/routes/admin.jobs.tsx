import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react';
import { formErrorsFrom, readForm } from '~/lib/forms.server';
import { requireCaller } from '~/lib/session.server';
import { JobStatus } from '../../server/generated/prisma/enums';

export const meta: MetaFunction = () => [{ title: 'Jobs · Admin · Switchyard' }];

const STATUSES = Object.values(JobStatus);
const isStatus = (value: string): value is JobStatus => (STATUSES as string[]).includes(value);

/** Every team's jobs; the read is audited by admin.jobs (server/services/admin.ts). */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const params = new URL(request.url).searchParams;
  const teamId = params.get('teamId') ?? '';
  const status = params.get('status') ?? '';
  const cursor = params.get('cursor') ?? '';
  const teams = await caller.admin.teams();
  // A team id that names no team lists nothing, as any id from elsewhere would.
  const known = teams.some((team) => team.id === teamId);
  const page = await caller.admin.jobs({
    ...(known ? { teamId } : {}),
    ...(isStatus(status) ? { status } : {}),
    ...(cursor && /^[\da-f-]{36}$/.test(cursor) ? { cursor } : {}),
  });
  return { teams, filter: { teamId: known ? teamId : '', status: isStatus(status) ? status : '' }, page };
}

type Intent = 'cancel' | 'retry' | 'boost';

export async function action({ request, context }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const form = await readForm(request);
  const field = (name: string) => String(form.get(name) ?? '').trim();
  const jobId = field('jobId');
  const intent = field('intent') as Intent;
  try {
    switch (intent) {
      case 'cancel':
        await caller.jobs.cancel({ jobId });
        return { ok: true as const, jobId, text: 'Cancelling: the job stops and gives its slot back.' };
      case 'retry':
        await caller.jobs.retry({ jobId });
        return { ok: true as const, jobId, text: 'The job runs again.' };
      case 'boost': {
        const boost = field('boost') === '' ? Number.NaN : Number(field('boost'));
        await caller.jobs.boost({ jobId, boost });
        return { ok: true as const, jobId, text: `Boosted by ${boost}: it moves up the queue now.` };
      }
      default:
        return data({ ok: false as const, jobId, text: 'Unknown action.' }, { status: 400 });
    }
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ ok: false as const, jobId, text: Object.values(errors.fieldErrors)[0] ?? errors.formError ?? 'Refused.' }, { status: errors.status });
  }
}

// One fixed locale and UTC: the server renders this page, and the browser must hydrate the same text.
const when = (at: string | Date) => `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

export default function AdminJobsPage() {
  const { teams, filter, page } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const older = page.nextCursor ? `?${new URLSearchParams({ ...filter, cursor: page.nextCursor }).toString()}` : null;
  return (
    <main className="page stack">
      <p>
        <Link to="/admin">← Admin</Link>
      </p>
      <h1>Jobs of every team</h1>
      <p className="muted">Each read of this page is recorded in the audit log.</p>
      <Form method="get" className="row" aria-label="Filter jobs">
        <label>
          Team
          <select name="teamId" defaultValue={filter.teamId}>
            <option value="">Every team</option>
            {teams.map((team) => (
              <option key={team.id} value={team.id}>
                {team.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select name="status" defaultValue={filter.status}>
            <option value="">Any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </Form>
      <div className="table-scroll">
        <table className="data-table" aria-label="Jobs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Team</th>
              <th scope="col">By</th>
              <th scope="col">Model</th>
              <th scope="col">Status</th>
              <th scope="col">Submitted</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {page.jobs.length === 0 && (
              <tr>
                <td colSpan={7} className="empty">
                  No job matches.
                </td>
              </tr>
            )}
            {page.jobs.map((job) => (
              <tr key={job.id}>
                <th scope="row">{job.title}</th>
                <td>{job.team.name}</td>
                <td>{job.user.email}</td>
                <td>{job.model}</td>
                <td>{job.status}</td>
                <td>{when(job.createdAt)}</td>
                <td>
                  <Actions job={job} />
                  {result?.jobId === job.id && (
                    <span className={result.ok ? 'notice' : 'error'} role={result.ok ? 'status' : 'alert'}>
                      {result.text}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {older && <Link to={older}>Older jobs</Link>}
    </main>
  );
}

type Job = ReturnType<typeof useLoaderData<typeof loader>>['page']['jobs'][number];

function Actions({ job }: { job: Job }) {
  const label = `job “${job.title.slice(0, 40)}” of ${job.team.name}`;
  return (
    <div className="row">
      {(job.status === 'queued' || job.status === 'running') && (
        <Form method="post">
          <input type="hidden" name="jobId" value={job.id} />
          <button type="submit" name="intent" value="cancel" aria-label={`Cancel ${label}`}>
            Cancel
          </button>
        </Form>
      )}
      {(job.status === 'failed' || job.status === 'dead_letter' || job.status === 'cancelled') && (
        <Form method="post">
          <input type="hidden" name="jobId" value={job.id} />
          <button type="submit" name="intent" value="retry" aria-label={`Retry ${label}`}>
            Retry
          </button>
        </Form>
      )}
      {job.status === 'queued' && (
        <Form method="post" className="row">
          <input type="hidden" name="jobId" value={job.id} />
          <label>
            Boost
            <input name="boost" type="number" min={-100} max={100} defaultValue={10} />
          </label>
          <button type="submit" name="intent" value="boost" aria-label={`Boost ${label}`}>
            Boost
          </button>
        </Form>
      )}
    </div>
  );
}
