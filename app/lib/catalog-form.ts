import { formNumbers, formTexts, numberTexts } from './form-values';

/** A catalogue model form's fields as the admin procedures take them (see form-values.ts). */
export const CATALOG_NUMBER_FIELDS = ['contextLength', 'maxOutputTokens', 'inputPricePer1k', 'outputPricePer1k'] as const;
const TEXT_FIELDS = ['name', 'description', 'ollamaModel', 'openaiModel'] as const;
type NumberField = (typeof CATALOG_NUMBER_FIELDS)[number];

/** What the admin typed, to show again beside a refusal. */
export type CatalogFormValues = Record<NumberField | (typeof TEXT_FIELDS)[number], string> & { enabled: boolean };

export function catalogFormValues(form: FormData): CatalogFormValues {
  return { ...formTexts(form, [...CATALOG_NUMBER_FIELDS, ...TEXT_FIELDS]), enabled: form.get('enabled') === 'on' };
}

/** An empty mapping box means "not served by that kind of backend". */
export function catalogSettingsOf(values: CatalogFormValues) {
  return {
    ...formNumbers(values, CATALOG_NUMBER_FIELDS),
    description: values.description,
    ollamaModel: values.ollamaModel || null,
    openaiModel: values.openaiModel || null,
    enabled: values.enabled,
  };
}

/** A stored model as the form shows it. */
export function catalogFormValuesOf(model: Record<NumberField, number> & {
  name: string;
  description: string;
  ollamaModel: string | null;
  openaiModel: string | null;
  enabled: boolean;
}): CatalogFormValues {
  return {
    ...numberTexts(model, CATALOG_NUMBER_FIELDS),
    name: model.name,
    description: model.description,
    ollamaModel: model.ollamaModel ?? '',
    openaiModel: model.openaiModel ?? '',
    enabled: model.enabled,
  };
}
