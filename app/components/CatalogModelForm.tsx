import { Form } from '@remix-run/react';
import type { CatalogFormValues } from '~/lib/catalog-form';
import { FormError } from './FormError';
import { Field } from './Field';
import { NumberField, TextField } from './FormField';
import { SubmitButton } from './SubmitButton';

interface Props {
  /** Creating: the name is asked for. Editing: it is fixed (tiers and jobs know models by name). */
  mode: 'create' | 'edit';
  values: CatalogFormValues;
  fieldErrors: Record<string, string | undefined>;
  formError: string | null | undefined;
  busy: boolean;
}

const SERVED_AS = [
  {
    name: 'ollamaModel',
    label: 'On Ollama backends',
    hint: 'The model as Ollama names it (tag :latest when none); empty = not on Ollama.',
    placeholder: 'qwen2.5-coder:7b',
  },
  { name: 'openaiModel', label: 'On OpenAI-compatible backends', hint: 'The model id the endpoint lists, exactly; empty = not in the cloud.', placeholder: 'gpt-4o-mini' },
] as const;

const LIMITS = [
  { name: 'contextLength', label: 'Context length (tokens)', hint: 'Prompt and answer together.' },
  { name: 'maxOutputTokens', label: 'Output cap (tokens)', hint: 'Every request asks for at most this; a tier’s cap may lower it.' },
  { name: 'inputPricePer1k', label: 'Input price (USD per 1,000 tokens)', hint: 'Charged wherever the job runs.', step: 'any' },
  { name: 'outputPricePer1k', label: 'Output price (USD per 1,000 tokens)', hint: 'Charged wherever the job runs.', step: 'any' },
] as const;

/** A catalogue model: what users see, what each kind of backend serves it as, its cap and its price. */
export function CatalogModelForm({ mode, values, fieldErrors, formError, busy }: Props) {
  return (
    <Form method="post" className="card stack" noValidate aria-label={mode === 'create' ? 'New model' : `Model ${values.name}`}>
      {mode === 'create' && (
        <TextField
          name="name"
          label="Name"
          hint="What users choose, e.g. qwen2.5-coder:7b; it cannot be changed later."
          error={fieldErrors.name}
          value={values.name}
        />
      )}
      <Field id="description" label="Description" hint="Shown to users beside the name; up to 500 characters." error={fieldErrors.description}>
        {(aria) => <textarea name="description" rows={2} defaultValue={values.description} {...aria} />}
      </Field>
      <fieldset className="tier-grid">
        <legend>Served as</legend>
        {SERVED_AS.map((field) => (
          <TextField key={field.name} {...field} error={fieldErrors[field.name]} value={values[field.name]} />
        ))}
      </fieldset>
      <fieldset className="tier-grid">
        <legend>Limits and price</legend>
        {LIMITS.map((field) => (
          <NumberField key={field.name} {...field} error={fieldErrors[field.name]} value={values[field.name]} />
        ))}
      </fieldset>
      <div className="field">
        <label className="checkbox">
          <input type="checkbox" name="enabled" defaultChecked={values.enabled} />
          Enabled: offered to users and admitted (jobs already admitted run either way)
        </label>
      </div>
      <FormError message={formError} />
      <SubmitButton busy={busy} pending="Saving…">
        {mode === 'create' ? 'Add model' : 'Save model'}
      </SubmitButton>
    </Form>
  );
}
