import { Field } from './Field';

interface Props {
  name: string;
  label: string;
  /** Shown under the input until there is an error to show instead. */
  hint: string;
  error: string | undefined;
  value: string;
}

/** A number box; `step` other than 1 allows decimals. */
export function NumberField({ name, label, hint, error, value, step = '1' }: Props & { step?: string }) {
  return (
    <Field id={name} label={label} hint={hint} error={error}>
      {(aria) => <input name={name} type="number" step={step} inputMode={step === '1' ? 'numeric' : 'decimal'} defaultValue={value} {...aria} />}
    </Field>
  );
}

/** A text box. */
export function TextField({ name, label, hint, error, value, placeholder }: Props & { placeholder?: string }) {
  return (
    <Field id={name} label={label} hint={hint} error={error}>
      {(aria) => <input name={name} defaultValue={value} placeholder={placeholder} {...aria} />}
    </Field>
  );
}
