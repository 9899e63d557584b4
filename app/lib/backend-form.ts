import { formNumbers, formTexts } from './form-values';

/** A backend form's fields as the backends procedures take them (see form-values.ts). */
const NUMBER_FIELDS = ['slots', 'prefetch', 'rpmLimit', 'tpmLimit'] as const;
const TEXT_FIELDS = ['kind', 'name', 'url', 'pool'] as const;

/**
 * What the admin typed, to show again beside a refusal. The API key is never among them: a key
 * goes to the server once and is not sent back to any browser, not even to the one that typed it.
 */
export type BackendFormValues = Record<(typeof NUMBER_FIELDS)[number] | (typeof TEXT_FIELDS)[number], string> & { enabled: boolean };

export function backendFormValues(form: FormData): { values: BackendFormValues; apiKey: string } {
  return {
    values: { ...formTexts(form, [...NUMBER_FIELDS, ...TEXT_FIELDS]), enabled: form.get('enabled') === 'on' },
    apiKey: String(form.get('apiKey') ?? '').trim(),
  };
}

/**
 * Empty boxes: no name (named after its host), no prefetch change, no rate limit, and an empty
 * key box keeps the stored key.
 */
export function backendSettingsOf(values: BackendFormValues, apiKey: string) {
  const numbers = formNumbers(values, NUMBER_FIELDS);
  return {
    ...(values.name ? { name: values.name } : {}),
    url: values.url,
    pool: values.pool,
    slots: numbers.slots,
    ...(values.kind === 'ollama' && values.prefetch !== '' ? { prefetch: numbers.prefetch } : {}),
    ...(values.kind === 'openai' ? { rpmLimit: numbers.rpmLimit ?? null, tpmLimit: numbers.tpmLimit ?? null } : {}),
    ...(apiKey ? { apiKey } : {}),
    enabled: values.enabled,
  };
}

/** A stored backend as the form shows it. */
export function backendFormValuesOf(backend: {
  kind: 'ollama' | 'openai';
  name: string;
  url: string;
  pool: string;
  slots: number;
  prefetch: number;
  rpmLimit: number | null;
  tpmLimit: number | null;
  enabled: boolean;
}): BackendFormValues {
  const text = (n: number | null) => (n === null ? '' : String(n));
  return {
    kind: backend.kind,
    name: backend.name,
    url: backend.url,
    pool: backend.pool,
    slots: String(backend.slots),
    prefetch: String(backend.prefetch),
    rpmLimit: text(backend.rpmLimit),
    tpmLimit: text(backend.tpmLimit),
    enabled: backend.enabled,
  };
}
