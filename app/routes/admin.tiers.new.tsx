import { type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { TierForm } from '~/components/TierForm';
import { saveForm, readForm } from '~/lib/forms.server';
import { schedulerNoticeText } from '~/lib/scheduler-notice';
import { requireCaller } from '~/lib/session.server';
import { tierFormValues, tierSettingsOf, type TierFormValues } from '~/lib/tier-form';

export const meta: MetaFunction = () => [{ title: 'New tier · Admin · Switchyard' }];

// The schema's defaults: a modest tier to adjust.
const blank: TierFormValues = {
  name: '',
  weight: '1',
  basePriority: '0',
  maxRunningPerUser: '1',
  maxQueuedPerUser: '5',
  tokenBudget: '0',
  budgetPeriodSeconds: '86400',
  cloudFallbackAfterSec: '60',
  minShare: '0',
  maxPromptChars: '16000',
  maxOutputTokens: '0',
  poolPreference: 'local',
  allowedModels: [],
  cloudFallback: false,
  batchEnabled: false,
  maxBatchSize: '5',
  batchTimeoutSec: '30',
};

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  return (await caller.admin.tiers()).options;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const values = tierFormValues(await readForm(request));
  return saveForm(values, async () => {
    const { tier, scheduler } = await caller.admin.createTier({ name: values.name, ...tierSettingsOf(values) });
    return { tier: { id: tier.id, name: tier.name }, notice: schedulerNoticeText(scheduler) };
  });
}

export default function NewTier() {
  const options = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== 'idle';
  const refused = result && !result.ok ? result : null;
  return (
    <main className="page narrow-page stack">
      <p>
        <Link to="/admin">← Admin</Link>
      </p>
      <h1>New tier</h1>
      {result?.ok ? (
        <p className={result.notice.ok ? 'notice' : 'warning'} role="status">
          Tier {result.tier.name} created. {result.notice.text} <Link to={`/admin/tiers/${result.tier.id}`}>Edit it</Link>
        </p>
      ) : (
        <TierForm
          mode="create"
          values={refused?.values ?? blank}
          models={options.models}
          pools={options.pools}
          fieldErrors={refused?.fieldErrors ?? {}}
          formError={refused?.formError}
          busy={busy}
        />
      )}
    </main>
  );
}
