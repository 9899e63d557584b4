import { type ActionFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Link, useActionData, useNavigation } from '@remix-run/react';
import { CatalogModelForm } from '~/components/CatalogModelForm';
import { catalogFormValues, catalogSettingsOf, type CatalogFormValues } from '~/lib/catalog-form';
import { saveForm, readForm } from '~/lib/forms.server';
import { schedulerNoticeText } from '~/lib/scheduler-notice';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction = () => [{ title: 'New model · Admin · Switchyard' }];

const blank: CatalogFormValues = {
  name: '',
  description: '',
  ollamaModel: '',
  openaiModel: '',
  contextLength: '8192',
  maxOutputTokens: '2048',
  inputPricePer1k: '0',
  outputPricePer1k: '0',
  enabled: true,
};

export async function action({ request, context }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const values = catalogFormValues(await readForm(request));
  return saveForm(values, async () => {
    const { model, scheduler } = await caller.admin.createModel({ name: values.name, ...catalogSettingsOf(values) });
    return { model: { id: model.id, name: model.name }, notice: schedulerNoticeText(scheduler) };
  });
}

export default function NewModel() {
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== 'idle';
  const refused = result && !result.ok ? result : null;
  return (
    <main className="page narrow-page stack">
      <p>
        <Link to="/admin/models">← Models</Link>
      </p>
      <h1>New model</h1>
      {result?.ok ? (
        <p className={result.notice.ok ? 'notice' : 'warning'} role="status">
          Model {result.model.name} added. {result.notice.text} <Link to={`/admin/models/${result.model.id}`}>Edit it</Link>
        </p>
      ) : (
        <CatalogModelForm
          mode="create"
          values={refused?.values ?? blank}
          fieldErrors={refused?.fieldErrors ?? {}}
          formError={refused?.formError}
          busy={busy}
        />
      )}
    </main>
  );
}
