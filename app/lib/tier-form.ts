/**
 * A tier form's fields as the admin procedures take them. Values are only converted, never judged:
 * the procedures' zod schema and the admin service refuse bad ones with a message per field.
 */
export const TIER_NUMBER_FIELDS = [
  'weight',
  'basePriority',
  'maxRunningPerUser',
  'maxQueuedPerUser',
  'tokenBudget',
  'budgetPeriodSeconds',
  'cloudFallbackAfterSec',
  'minShare',
  'maxPromptChars',
] as const;

/** What the admin typed, to show again beside a refusal. */
export type TierFormValues = Record<(typeof TIER_NUMBER_FIELDS)[number] | 'name' | 'poolPreference', string> & {
  allowedModels: string[];
  cloudFallback: boolean;
};

export function tierFormValues(form: FormData): TierFormValues {
  const text = (name: string) => String(form.get(name) ?? '').trim();
  return {
    ...(Object.fromEntries(TIER_NUMBER_FIELDS.map((name) => [name, text(name)])) as Record<(typeof TIER_NUMBER_FIELDS)[number], string>),
    name: text('name'),
    poolPreference: text('poolPreference'),
    allowedModels: form.getAll('allowedModels').map(String),
    cloudFallback: form.get('cloudFallback') === 'on',
  };
}

/** An empty box becomes a missing number (refused as such), not a silent 0. */
export function tierSettingsOf(values: TierFormValues) {
  const number = (value: string) => (value === '' ? undefined : Number(value));
  return {
    ...(Object.fromEntries(TIER_NUMBER_FIELDS.map((name) => [name, number(values[name])])) as Record<(typeof TIER_NUMBER_FIELDS)[number], number>),
    // "cloud, local" in order of preference.
    poolPreference: values.poolPreference.split(',').map((pool) => pool.trim()).filter(Boolean),
    allowedModels: values.allowedModels,
    cloudFallback: values.cloudFallback,
  };
}

/** A stored tier as the form shows it. */
export function tierFormValuesOf(tier: Record<(typeof TIER_NUMBER_FIELDS)[number], number> & {
  name: string;
  poolPreference: string[];
  allowedModels: string[];
  cloudFallback: boolean;
}): TierFormValues {
  return {
    ...(Object.fromEntries(TIER_NUMBER_FIELDS.map((name) => [name, String(tier[name])])) as Record<(typeof TIER_NUMBER_FIELDS)[number], string>),
    name: tier.name,
    poolPreference: tier.poolPreference.join(', '),
    allowedModels: tier.allowedModels,
    cloudFallback: tier.cloudFallback,
  };
}
