import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { BackendForm } from '~/components/BackendForm';
import { backendFormValues, backendFormValuesOf, backendSettingsOf } from '~/lib/backend-form';
import { deleteForm, readForm, requireFound, saveForm } from '~/lib/forms.server';
import { schedulerNoticeText } from '~/lib/scheduler-notice';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `Backend ${data.name} · Admin · Switchyard` : 'Admin · Switchyard' }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  return requireFound(() => caller.backends.get({ backendId: params.backendId! }), 'backend');
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const backendId = params.backendId!;
  const form = await readForm(request);
  if (form.get('intent') === 'delete') return deleteForm(() => caller.backends.delete({ backendId }), '/admin', 'backend');
  const { values, apiKey } = backendFormValues(form);
  return saveForm(values, async () => {
    const { scheduler } = await caller.backends.update({ backendId, ...backendSettingsOf(values, apiKey) });
    return { notice: schedulerNoticeText(scheduler) };
  });
}

export default function EditBackend() {
  const backend = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== 'idle';
  const refused = result && !result.ok && 'values' in result ? result : null;
  const deleteError = result && !result.ok && 'deleteError' in result ? result.deleteError : null;
  return (
    <main className="page narrow-page stack">
      <p>
        <Link to="/admin">← Admin</Link>
      </p>
      <h1>Backend {backend.name}</h1>
      <p className="muted">
        {backend.kind === 'ollama' ? 'Ollama' : 'OpenAI-compatible'} · {backend.state} · {backend.models.join(', ') || 'no models reported'}
      </p>
      {result?.ok && (
        <p className={result.notice.ok ? 'notice' : 'warning'} role="status">
          {result.notice.text}
        </p>
      )}
      <BackendForm
        // Remounted after a save, so the fields show what was stored.
        key={String(backend.updatedAt)}
        mode="edit"
        values={refused?.values ?? backendFormValuesOf(backend)}
        apiKeyLast4={backend.apiKeyLast4}
        fieldErrors={refused?.fieldErrors ?? {}}
        formError={refused?.formError}
        busy={busy}
      />
      <Form method="post" className="card row spread" aria-label="Delete backend">
        <p className="muted">Only a backend nothing runs on can be removed: drain it first (on the admin page).</p>
        <input type="hidden" name="intent" value="delete" />
        <button type="submit" className="danger" disabled={busy}>
          Delete backend
        </button>
        {deleteError && (
          <p className="error" role="alert">
            {deleteError}
          </p>
        )}
      </Form>
    </main>
  );
}
