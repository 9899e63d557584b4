import { Form } from '@remix-run/react';
import type { BackendFormValues } from '~/lib/backend-form';
import { Field } from './Field';
import { FormError } from './FormError';
import { NumberField, TextField } from './FormField';
import { SubmitButton } from './SubmitButton';

interface Props {
  /** Creating: the kind is asked for. Editing: it is fixed. */
  mode: 'create' | 'edit';
  values: BackendFormValues;
  /** Editing a cloud endpoint: the stored key's last four characters, if any. */
  apiKeyLast4?: string | null;
  fieldErrors: Record<string, string | undefined>;
  formError: string | null | undefined;
  busy: boolean;
}

/** An Ollama instance or an OpenAI-compatible endpoint: where it is, its pool, its capacity, for cloud its key and limits. */
export function BackendForm({ mode, values, apiKeyLast4, fieldErrors, formError, busy }: Props) {
  const cloud = values.kind === 'openai';
  return (
    <Form method="post" className="card stack" noValidate aria-label={mode === 'create' ? 'New backend' : `Backend ${values.name}`}>
      {mode === 'create' ? (
        <Field id="kind" label="Kind" hint="It cannot be changed later." error={fieldErrors.kind}>
          {(aria) => (
            <select name="kind" defaultValue={values.kind} {...aria}>
              <option value="ollama">Ollama</option>
              <option value="openai">OpenAI-compatible</option>
            </select>
          )}
        </Field>
      ) : (
        <input type="hidden" name="kind" value={values.kind} />
      )}
      <TextField name="name" label="Name" hint="What users see it called; empty: its host." error={fieldErrors.name} value={values.name} />
      <TextField
        name="url"
        label="URL"
        hint="http(s), no user or password; the host must be on the operator’s allow-list."
        placeholder={cloud ? 'https://api.openai.com/v1' : 'http://10.0.0.5:11434'}
        error={fieldErrors.url}
        value={values.url}
      />
      <fieldset className="tier-grid">
        <legend>Pool and capacity</legend>
        <TextField name="pool" label="Pool" hint="Tiers order pools, e.g. local, dedicated, cloud." error={fieldErrors.pool} value={values.pool} />
        <NumberField name="slots" label="Slots" hint="Requests it serves at once (Ollama’s OLLAMA_NUM_PARALLEL)." error={fieldErrors.slots} value={values.slots} />
        {(mode === 'create' || !cloud) && (
          <NumberField name="prefetch" label="Prefetch" hint="Ollama only: requests queued beyond the slots; empty: none." error={fieldErrors.prefetch} value={values.prefetch} />
        )}
      </fieldset>
      {(mode === 'create' || cloud) && (
        <fieldset className="tier-grid">
          <legend>Cloud endpoint</legend>
          <Field
            id="apiKey"
            label="API key"
            hint={apiKeyLast4 ? `A key ending in ${apiKeyLast4} is stored; empty keeps it.` : 'Stored encrypted; never shown again.'}
            error={fieldErrors.apiKey}
          >
            {(aria) => <input name="apiKey" type="password" autoComplete="off" {...aria} />}
          </Field>
          <NumberField name="rpmLimit" label="Requests per minute" hint="Empty: no limit." error={fieldErrors.rpmLimit} value={values.rpmLimit} />
          <NumberField name="tpmLimit" label="Tokens per minute" hint="Empty: no limit." error={fieldErrors.tpmLimit} value={values.tpmLimit} />
        </fieldset>
      )}
      <div className="field">
        <label className="checkbox">
          <input type="checkbox" name="enabled" defaultChecked={values.enabled} />
          Enabled: the scheduler grants it jobs
        </label>
      </div>
      <FormError message={formError} />
      <SubmitButton busy={busy} pending="Saving…">
        {mode === 'create' ? 'Add backend' : 'Save backend'}
      </SubmitButton>
    </Form>
  );
}
