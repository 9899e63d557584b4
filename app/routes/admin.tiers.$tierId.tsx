import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { TRPCError } from '@trpc/server';
import { TierForm } from '~/components/TierForm';
import { formErrorsFrom } from '~/lib/forms.server';
import { schedulerNoticeText } from '~/lib/scheduler-notice';
import { requireCaller } from '~/lib/session.server';
import { tierFormValues, tierFormValuesOf, tierSettingsOf } from '~/lib/tier-form';

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `Tier ${data.tier.name} · Admin · Switchyard` : 'Admin · Switchyard' }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  try {
    return await caller.admin.tier({ tierId: params.tierId! });
  } catch (error) {
    if (error instanceof TRPCError && (error.code === 'NOT_FOUND' || error.code === 'BAD_REQUEST')) {
      throw data('There is no such tier.', { status: 404 });
    }
    throw error;
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const values = tierFormValues(await request.formData());
  try {
    const { scheduler } = await caller.admin.updateTier({ tierId: params.tierId!, ...tierSettingsOf(values) });
    return { ok: true as const, notice: schedulerNoticeText(scheduler) };
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ ok: false as const, values, fieldErrors: errors.fieldErrors, formError: errors.formError }, { status: errors.status });
  }
}

export default function EditTier() {
  const { tier, options } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== 'idle';
  const refused = result && !result.ok ? result : null;
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
    </main>
  );
}
