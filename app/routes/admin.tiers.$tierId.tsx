import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { TierForm } from '~/components/TierForm';
import { deleteForm, requireFound, saveForm, readForm } from '~/lib/forms.server';
import { schedulerNoticeText } from '~/lib/scheduler-notice';
import { requireCaller } from '~/lib/session.server';
import { tierFormValues, tierFormValuesOf, tierSettingsOf } from '~/lib/tier-form';

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `Tier ${data.tier.name} · Admin · Switchyard` : 'Admin · Switchyard' }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  return requireFound(() => caller.admin.tier({ tierId: params.tierId! }), 'tier');
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const form = await readForm(request);
  if (form.get('intent') === 'delete') return deleteForm(() => caller.admin.deleteTier({ tierId: params.tierId! }), '/admin', 'tier');
  const values = tierFormValues(form);
  return saveForm(values, async () => {
    const { scheduler } = await caller.admin.updateTier({ tierId: params.tierId!, ...tierSettingsOf(values) });
    return { notice: schedulerNoticeText(scheduler) };
  });
}

export default function EditTier() {
  const { tier, options } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== 'idle';
  const refused = result && !result.ok && 'values' in result ? result : null;
  const deleteError = result && !result.ok && 'deleteError' in result ? result.deleteError : null;
  return (
    <main className="page narrow-page stack">
      <p>
        <Link to="/admin">← Admin</Link>
      </p>
      <h1>Tier {tier.name}</h1>
      <p className="muted">
        {tier._count.teams} team{tier._count.teams === 1 ? '' : 's'} on this tier. Changes apply to their waiting and new jobs.
      </p>
      {result?.ok && (
        <p className={result.notice.ok ? 'notice' : 'warning'} role="status">
          {result.notice.text}
        </p>
      )}
      <TierForm
        // Remounted after a save, so the fields show what was stored.
        key={String(tier.updatedAt)}
        mode="edit"
        values={refused?.values ?? tierFormValuesOf(tier)}
        models={options.models}
        pools={options.pools}
        fieldErrors={refused?.fieldErrors ?? {}}
        formError={refused?.formError}
        busy={busy}
      />
      <Form method="post" className="card row spread" aria-label="Delete tier">
        <p className="muted">
          {tier._count.teams > 0 ? 'Move its teams to another tier before deleting it.' : 'No team is on this tier; it can be deleted.'}
        </p>
        <input type="hidden" name="intent" value="delete" />
        <button type="submit" className="danger" disabled={busy || tier._count.teams > 0}>
          Delete tier
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
