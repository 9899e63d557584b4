import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { CatalogModelForm } from '~/components/CatalogModelForm';
import { catalogFormValues, catalogFormValuesOf, catalogSettingsOf } from '~/lib/catalog-form';
import { deleteForm, requireFound, saveForm, readForm } from '~/lib/forms.server';
import { schedulerNoticeText } from '~/lib/scheduler-notice';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `Model ${data.name} · Admin · Switchyard` : 'Admin · Switchyard' }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  return requireFound(() => caller.admin.model({ modelId: params.modelId! }), 'model');
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const form = await readForm(request);
  if (form.get('intent') === 'delete') return deleteForm(() => caller.admin.deleteModel({ modelId: params.modelId! }), '/admin/models', 'model');
  const values = catalogFormValues(form);
  return saveForm(values, async () => {
    const { scheduler } = await caller.admin.updateModel({ modelId: params.modelId!, ...catalogSettingsOf(values) });
    return { notice: schedulerNoticeText(scheduler) };
  });
}

export default function EditModel() {
  const model = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== 'idle';
  const refused = result && !result.ok && 'values' in result ? result : null;
  const deleteError = result && !result.ok && 'deleteError' in result ? result.deleteError : null;
  return (
    <main className="page narrow-page stack">
      <p>
        <Link to="/admin/models">← Models</Link>
      </p>
      <h1>Model {model.name}</h1>
      <p className="muted">
        {model.servedBy.length > 0
          ? `Served by ${model.servedBy.map((b) => `${b.id} (${b.pool})`).join(', ')}.`
          : 'No enabled backend serves it: it cannot be submitted, and jobs waiting for it are blocked.'}{' '}
        {model.tiers.length > 0 ? `Named by the ${model.tiers.join(', ')} tier${model.tiers.length === 1 ? '' : 's'}.` : 'No tier names it.'}
      </p>
      {result?.ok && (
        <p className={result.notice.ok ? 'notice' : 'warning'} role="status">
          {result.notice.text}
        </p>
      )}
      <CatalogModelForm
        // Remounted after a save, so the fields show what was stored.
        key={String(model.updatedAt)}
        mode="edit"
        values={refused?.values ?? catalogFormValuesOf(model)}
        fieldErrors={refused?.fieldErrors ?? {}}
        formError={refused?.formError}
        busy={busy}
      />
      <Form method="post" className="card row spread" aria-label="Delete model">
        <p className="muted">Only a model no tier names and no unfinished job uses can be deleted; disable it to stop new jobs.</p>
        <input type="hidden" name="intent" value="delete" />
        <button type="submit" className="danger" disabled={busy}>
          Delete model
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
