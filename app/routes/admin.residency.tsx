import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Link, useFetcher, useLoaderData, useRevalidator } from '@remix-run/react';
import { useState } from 'react';
import { formErrorsFrom, readForm } from '~/lib/forms.server';
import { schedulerNoticeText } from '~/lib/scheduler-notice';
import { requireCaller } from '~/lib/session.server';
import { useRoom } from '~/lib/socket';
import { residencyRoom, type PullProgressEvent } from '../../server/realtime/events';

export const meta: MetaFunction = () => [{ title: 'Residency · Admin · Switchyard' }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  return { view: await caller.admin.residency() };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const form = await readForm(request);
  const field = (name: string) => String(form.get(name) ?? '').trim();
  const backendId = field('backendId');
  try {
    if (field('intent') === 'pull') {
      const { started } = await caller.admin.pullModel({ backendId, model: field('model') });
      return { ok: true as const, backendId, text: started ? 'Pulling; progress below.' : 'That pull is already running.' };
    }
    if (field('intent') === 'limits') {
      const optional = (name: string) => (field(name) === '' ? null : Number(field(name)));
      const { scheduler } = await caller.admin.setResidencyLimits({ backendId, memoryBudgetMb: optional('memoryBudgetMb'), maxLoadedModels: optional('maxLoadedModels') });
      return { ok: true as const, backendId, text: schedulerNoticeText(scheduler).text };
    }
    return data({ ok: false as const, backendId, text: 'Unknown action.' }, { status: 400 });
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ ok: false as const, backendId, text: Object.values(errors.fieldErrors)[0] ?? errors.formError ?? 'Refused.' }, { status: errors.status });
  }
}

type View = ReturnType<typeof useLoaderData<typeof loader>>['view'];
type Backend = View['backends'][number];

// One fixed locale and UTC: the server renders this page, and the browser must hydrate the same text.
const gigabytes = (bytes: number) => `${(bytes / 1e9).toLocaleString('en-US', { maximumFractionDigits: 1 })} GB`;
const clock = (at: string | Date | null) => (at ? `${new Date(at).toISOString().slice(11, 19)} UTC` : 'kept loaded');
const pullKey = (backendId: string, model: string) => `${backendId}\u0000${model}`;

export default function ResidencyPage() {
  const { view } = useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
  const [pulls, setPulls] = useState<Record<string, PullProgressEvent>>({});
  useRoom(residencyRoom, {
    'admin:pull': (event) => {
      setPulls((current) => ({ ...current, [pullKey(event.backendId, event.model)]: event }));
      // The next read of the backend lists the model; until then the page shows the pull's end.
      if (event.done && !event.error) revalidator.revalidate();
    },
  });
  return (
    <main className="page stack">
      <p>
        <Link to="/admin">← Admin</Link>
      </p>
      <h1>Residency</h1>
      <p className="muted">
        What each Ollama backend has on disk (<code>/api/tags</code>) and in memory (<code>/api/ps</code>), read by the resource loop every few seconds. The
        scheduler places jobs by it and expects Ollama to unload models past each backend&apos;s limits below.
      </p>
      <Missing missing={view.missing} />
      {view.backends.length === 0 && <p className="empty">No enabled Ollama backend.</p>}
      {view.backends.map((backend) => (
        <BackendCard key={backend.id} backend={backend} pulls={pulls} />
      ))}
    </main>
  );
}

function Missing({ missing }: { missing: View['missing'] }) {
  if (missing.length === 0) return null;
  return (
    <section className="card" aria-labelledby="missing-heading">
      <h2 id="missing-heading">Missing from a pool</h2>
      <p className="muted">No backend of the pool has these catalogue models on disk: jobs that must run there cannot start until one pulls it.</p>
      <ul>
        {missing.map((m) => (
          <li key={`${m.pool}/${m.model}`} className="warning">
            <strong>{m.model}</strong> ({m.ollamaModel}) is on no backend of pool <strong>{m.pool}</strong>
          </li>
        ))}
      </ul>
    </section>
  );
}

function BackendCard({ backend, pulls }: { backend: Backend; pulls: Record<string, PullProgressEvent> }) {
  const limits = useFetcher<typeof action>();
  const headingId = `backend-${backend.id}`;
  return (
    <section className="card stack" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {backend.name} <span className="muted">pool {backend.pool}</span>
      </h2>
      <div className="table-scroll">
        <table className="data-table" aria-label={`Models on ${backend.name}`}>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">On disk</th>
              <th scope="col">Loaded</th>
              <th scope="col">Size</th>
              <th scope="col">Unloads at</th>
            </tr>
          </thead>
          <tbody>
            {backend.models.length === 0 && (
              <tr>
                <td colSpan={5} className="empty">
                  Not read yet.
                </td>
              </tr>
            )}
            {backend.models.map((m) => (
              <tr key={m.model}>
                <th scope="row">{m.model}</th>
                <td>{m.present ? 'yes' : 'no'}</td>
                <td>{m.loaded ? <span className="badge">loaded</span> : '—'}</td>
                <td>{gigabytes(m.sizeBytes)}</td>
                <td>{m.loaded ? clock(m.expiresAt) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <limits.Form method="post" className="row">
        <input type="hidden" name="intent" value="limits" />
        <input type="hidden" name="backendId" value={backend.id} />
        <label>
          Memory budget (MB)
          <input name="memoryBudgetMb" type="number" min={256} defaultValue={backend.memoryBudgetMb ?? ''} placeholder="learned" />
        </label>
        <label>
          Models at most
          <input name="maxLoadedModels" type="number" min={1} defaultValue={backend.maxLoadedModels ?? ''} placeholder="3" />
        </label>
        <button type="submit">Save limits</button>
        {limits.data && (
          <span className={limits.data.ok ? 'notice' : 'error'} role={limits.data.ok ? 'status' : 'alert'}>
            {limits.data.text}
          </span>
        )}
      </limits.Form>
      {backend.absent.length > 0 && (
        <div className="stack">
          <h3>Not on this backend</h3>
          {backend.absent.map((model) => (
            <Pull key={model} backend={backend} model={model} progress={pulls[pullKey(backend.id, model)]} />
          ))}
        </div>
      )}
    </section>
  );
}

function Pull({ backend, model, progress }: { backend: Backend; model: string; progress: PullProgressEvent | undefined }) {
  const fetcher = useFetcher<typeof action>();
  const running = progress !== undefined && !progress.done;
  return (
    <fetcher.Form method="post" className="row">
      <input type="hidden" name="intent" value="pull" />
      <input type="hidden" name="backendId" value={backend.id} />
      <input type="hidden" name="model" value={model} />
      <span>{model}</span>
      <button type="submit" disabled={running || fetcher.state !== 'idle'} aria-label={`Pull ${model} onto ${backend.name}`}>
        Pull
      </button>
      {progress && !progress.done && (
        <>
          <progress aria-label={`Pulling ${model} onto ${backend.name}`} max={progress.total ?? 1} value={progress.total ? (progress.completed ?? 0) : undefined} />
          <span className="muted">{progress.status}</span>
        </>
      )}
      {progress?.done && (
        <span className={progress.error ? 'error' : 'notice'} role={progress.error ? 'alert' : 'status'}>
          {progress.error ? `Pull failed: ${progress.error}` : 'Pulled; it is listed with the next read.'}
        </span>
      )}
      {!progress && fetcher.data && !fetcher.data.ok && (
        <span className="error" role="alert">
          {fetcher.data.text}
        </span>
      )}
    </fetcher.Form>
  );
}
