import { Form } from '@remix-run/react';
import type { TierFormValues } from '~/lib/tier-form';
import { FormError } from './FormError';
import { SubmitButton } from './SubmitButton';
import { NumberField, TextField } from './FormField';

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
  const number = (name: Exclude<keyof TierFormValues, 'allowedModels' | 'cloudFallback' | 'batchEnabled'>, label: string, hint: string, step = '1') => (
    <NumberField name={name} label={label} hint={hint} error={fieldErrors[name]} value={values[name]} step={step} />
  );

  return (
    <Form method="post" className="card stack" noValidate aria-label={mode === 'create' ? 'New tier' : `Tier ${values.name}`}>
      {mode === 'create' && (
        <TextField name="name" label="Name" hint="Lower-case letters, digits and dashes; it cannot be changed later." error={fieldErrors.name} value={values.name} />
      )}
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
        {number('maxOutputTokens', 'Max answer length (tokens)', 'Caps every model’s own output cap; 0 = each model’s own.')}
        {number('tokenBudget', 'Token budget per team', 'Prompt + completion tokens per period; 0 = unlimited.')}
        {number('budgetPeriodSeconds', 'Budget period (seconds)', '86400 = a day; windows start at multiples of it (UTC).')}
      </fieldset>
      <fieldset className="tier-grid">
        <legend>Routing</legend>
        <TextField
          name="poolPreference"
          label="Pools, most preferred first"
          hint={`Comma-separated. Known: ${pools.join(', ') || 'none'}.`}
          error={fieldErrors.poolPreference}
          value={values.poolPreference}
        />
        <div className="field">
          <label className="checkbox">
            <input type="checkbox" name="cloudFallback" defaultChecked={values.cloudFallback} />
            Fall back to cloud
          </label>
        </div>
        {number('cloudFallbackAfterSec', 'Fall back after (seconds of expected wait)', '0 to 86,400.')}
      </fieldset>
      <fieldset className="tier-grid">
        <legend>Batching</legend>
        <div className="field">
          <label className="checkbox">
            <input type="checkbox" name="batchEnabled" defaultChecked={values.batchEnabled} />
            Batch review items and simple jobs
          </label>
          <span className="hint">Jobs of one model that must load it go to one backend together and share the load.</span>
        </div>
        {number('maxBatchSize', 'Max batch size', 'Jobs sent together at most; 1 to 64.')}
        {number('batchTimeoutSec', 'Batch timeout (seconds)', 'Longest a partial batch waits for more jobs, and only when that saves a model load; 0 to 600.')}
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
            From the model catalogue. None ticked = every enabled model.
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
