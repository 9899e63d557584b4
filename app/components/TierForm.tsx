import { Form } from '@remix-run/react';
import type { ReactNode } from 'react';
import type { TierFormValues } from '~/lib/tier-form';
import { Field, type ControlAria } from './Field';
import { FormError } from './FormError';
import { SubmitButton } from './SubmitButton';

interface Props {
  /** Creating: the name is asked for. Editing: it is fixed (jobs and the scheduler know tiers by name). */
  mode: 'create' | 'edit';
  values: TierFormValues;
  models: string[];
  pools: string[];
  fieldErrors: Record<string, string | undefined>;
  formError: string | null | undefined;
  busy: boolean;
}

/** The settings of a tier, each with its meaning and its error beside it. */
export function TierForm({ mode, values, models, pools, fieldErrors, formError, busy }: Props) {
  const field = (name: keyof TierFormValues, label: string, hint: string, input: (aria: ControlAria) => ReactNode) => (
    <Field id={name} label={label} hint={hint} error={fieldErrors[name]}>
      {input}
    </Field>
  );
  const number = (name: keyof TierFormValues, label: string, hint: string, step = '1') =>
    field(name, label, hint, (aria) => (
      <input name={name} type="number" step={step} inputMode={step === '1' ? 'numeric' : 'decimal'} defaultValue={values[name] as string} {...aria} />
    ));

  return (
    <Form method="post" className="card stack" noValidate aria-label={mode === 'create' ? 'New tier' : `Tier ${values.name}`}>
      {mode === 'create' &&
        field('name', 'Name', 'Lower-case letters, digits and dashes; it cannot be changed later.', (aria) => (
          <input name="name" defaultValue={values.name} required {...aria} />
        ))}
      <fieldset className="tier-grid">
        <legend>Scheduling</legend>
        {number('weight', 'Fair-share weight', 'Share of capacity between teams under contention; at least 1.')}
        {number('basePriority', 'Base priority', 'Added to every job’s priority (low −10, normal 0, high +10); −100 to 100.')}
        {number('minShare', 'Guaranteed minimum share', 'Fraction of local slots each team of the tier gets first while it has work; 0 to 1.', '0.01')}
      </fieldset>
      <fieldset className="tier-grid">
        <legend>Limits per user and team</legend>
        {number('maxRunningPerUser', 'Max running jobs per user', '0 = no limit.')}
        {number('maxQueuedPerUser', 'Max queued jobs per user', 'Beyond it a submit is refused; 0 = no limit.')}
        {number('maxPromptChars', 'Max prompt length (characters)', 'Up to 100,000.')}
        {number('tokenBudget', 'Token budget per team', 'Prompt + completion tokens per period; 0 = unlimited.')}
        {number('budgetPeriodSeconds', 'Budget period (seconds)', '86400 = a day; windows start at multiples of it (UTC).')}
      </fieldset>
      <fieldset className="tier-grid">
        <legend>Routing</legend>
        {field('poolPreference', 'Pools, most preferred first', `Comma-separated. Known: ${pools.join(', ') || 'none'}.`, (aria) => (
          <input name="poolPreference" defaultValue={values.poolPreference} {...aria} />
        ))}
        <div className="field">
          <label className="checkbox">
            <input type="checkbox" name="cloudFallback" defaultChecked={values.cloudFallback} />
            Fall back to cloud
          </label>
        </div>
        {number('cloudFallbackAfterSec', 'Fall back after (seconds of expected wait)', '0 to 86,400.')}
      </fieldset>
      <fieldset aria-describedby={fieldErrors.allowedModels ? 'allowedModels-error' : 'allowedModels-hint'} aria-invalid={!!fieldErrors.allowedModels}>
        <legend>Allowed models</legend>
        <div className="row">
          {models.map((model) => (
            <label key={model} className="checkbox">
              <input type="checkbox" name="allowedModels" value={model} defaultChecked={values.allowedModels.includes(model)} />
              {model}
            </label>
          ))}
        </div>
        {fieldErrors.allowedModels ? (
          <span className="error" id="allowedModels-error">
            {fieldErrors.allowedModels}
          </span>
        ) : (
          <span className="hint" id="allowedModels-hint">
            None ticked = every model the backends serve.
          </span>
        )}
      </fieldset>
      <FormError message={formError} />
      <SubmitButton busy={busy} pending="Saving…">
        {mode === 'create' ? 'Create tier' : 'Save tier'}
      </SubmitButton>
    </Form>
  );
}
