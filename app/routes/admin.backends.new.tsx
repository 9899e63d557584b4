import { type ActionFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Link, useActionData, useNavigation } from '@remix-run/react';
import { BackendForm } from '~/components/BackendForm';
import { backendFormValues, backendSettingsOf, type BackendFormValues } from '~/lib/backend-form';
import { readForm, saveForm } from '~/lib/forms.server';
import { schedulerNoticeText } from '~/lib/scheduler-notice';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction = () => [{ title: 'New backend · Admin · Switchyard' }];

const blank: BackendFormValues = { kind: 'ollama', name: '', url: '', pool: 'local', slots: '4', prefetch: '', rpmLimit: '', tpmLimit: '', enabled: true };

export async function action({ request, context }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const { values, apiKey } = backendFormValues(await readForm(request));
  return saveForm(values, async () => {
    const { backend, scheduler } = await caller.backends.create({ kind: values.kind as 'ollama' | 'openai', ...backendSettingsOf(values, apiKey) });
    return { backend: { id: backend.id, name: backend.name, models: backend.models }, notice: schedulerNoticeText(scheduler) };
  });
}

export default function NewBackend() {
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== 'idle';
  const refused = result && !result.ok ? result : null;
  return (
    <main className="page narrow-page stack">
      <p>
        <Link to="/admin">← Admin</Link>
      </p>
      <h1>New backend</h1>
      {result?.ok ? (
        <p className={result.notice.ok ? 'notice' : 'warning'} role="status">
          Backend {result.backend.name} added ({result.backend.models.length > 0 ? `it has ${result.backend.models.join(', ')}` : 'it reported no models yet'}).{' '}
          {result.notice.text} <Link to={`/admin/backends/${encodeURIComponent(result.backend.id)}`}>Edit it</Link>
        </p>
      ) : (
        <BackendForm mode="create" values={refused?.values ?? blank} fieldErrors={refused?.fieldErrors ?? {}} formError={refused?.formError} busy={busy} />
      )}
    </main>
  );
}
