import { type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Link, useLoaderData } from '@remix-run/react';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction = () => [{ title: 'Models · Admin · Switchyard' }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  return { models: await caller.admin.models() };
}

// One fixed locale: the server renders this page, and the browser must hydrate the same text.
const number = (n: number) => n.toLocaleString('en-US');
const usd = (n: number) => `$${n.toLocaleString('en-US', { maximumSignificantDigits: 6 })}`;

export default function CatalogPage() {
  const { models } = useLoaderData<typeof loader>();
  return (
    <main className="page stack">
      <p>
        <Link to="/admin">← Admin</Link>
      </p>
      <section className="card" aria-labelledby="models-heading">
        <div className="row spread">
          <h1 id="models-heading">Model catalogue</h1>
          <Link to="/admin/models/new">New model</Link>
        </div>
        <p className="muted">
          What users choose, and what each kind of backend serves it as. A model no enabled backend serves cannot be submitted; jobs already
          waiting for it show as blocked.
        </p>
        {models.length === 0 ? (
          <p className="empty">The catalogue is empty: no job can be submitted until a model is added.</p>
        ) : (
          <div className="table-scroll">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">On Ollama</th>
                  <th scope="col">In the cloud</th>
                  <th scope="col">Served by</th>
                  <th scope="col">Context / output cap</th>
                  <th scope="col">Price in / out per 1k</th>
                  <th scope="col">Tiers naming it</th>
                </tr>
              </thead>
              <tbody>
                {models.map((model) => (
                  <tr key={model.id}>
                    <th scope="row">
                      <Link to={`/admin/models/${model.id}`} aria-label={`Edit model ${model.name}`}>
                        {model.name}
                      </Link>{' '}
                      {!model.enabled && <span className="badge">disabled</span>}
                      {model.description && <span className="muted model-description">{model.description}</span>}
                    </th>
                    <td>{model.ollamaModel ?? '—'}</td>
                    <td>{model.openaiModel ?? '—'}</td>
                    <td>
                      {model.servedBy.length > 0 ? (
                        model.servedBy.map((b) => `${b.id} (${b.pool})`).join(', ')
                      ) : (
                        <span className="warning">no backend serves it</span>
                      )}
                    </td>
                    <td>
                      {number(model.contextLength)} / {number(model.maxOutputTokens)}
                    </td>
                    <td>
                      {usd(model.inputPricePer1k)} / {usd(model.outputPricePer1k)}
                    </td>
                    <td>{model.tiers.join(', ') || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </main>
  );
}
