import { formNumbers, formTexts, numberTexts } from './form-values';

/** A tier form's fields as the admin procedures take them (see form-values.ts). */
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
  'maxOutputTokens',
  'maxBatchSize',
  'batchTimeoutSec',
] as const;
type NumberField = (typeof TIER_NUMBER_FIELDS)[number];

/** What the admin typed, to show again beside a refusal. */
export type TierFormValues = Record<NumberField | 'name' | 'poolPreference', string> & {
  allowedModels: string[];
  cloudFallback: boolean;
  batchEnabled: boolean;
};

export function tierFormValues(form: FormData): TierFormValues {
  return {
    ...formTexts(form, [...TIER_NUMBER_FIELDS, 'name', 'poolPreference']),
    allowedModels: form.getAll('allowedModels').map(String),
    cloudFallback: form.get('cloudFallback') === 'on',
    batchEnabled: form.get('batchEnabled') === 'on',
  };
}

export function tierSettingsOf(values: TierFormValues) {
  return {
    ...formNumbers(values, TIER_NUMBER_FIELDS),
    // "cloud, local" in order of preference.
    poolPreference: values.poolPreference.split(',').map((pool) => pool.trim()).filter(Boolean),
    allowedModels: values.allowedModels,
    cloudFallback: values.cloudFallback,
    batchEnabled: values.batchEnabled,
  };
}

/** A stored tier as the form shows it. */
export function tierFormValuesOf(tier: Record<NumberField, number> & {
  name: string;
  poolPreference: string[];
  allowedModels: string[];
  cloudFallback: boolean;
  batchEnabled: boolean;
}): TierFormValues {
  return {
    ...numberTexts(tier, TIER_NUMBER_FIELDS),
    name: tier.name,
    poolPreference: tier.poolPreference.join(', '),
    allowedModels: tier.allowedModels,
    cloudFallback: tier.cloudFallback,
    batchEnabled: tier.batchEnabled,
  };
}
