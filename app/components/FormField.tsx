import type { ReactNode } from 'react';

interface FieldProps {
  name: string;
  label: string;
  /** Shown under the input until there is an error to show instead. */
  hint: string;
  error: string | undefined;
  /** The input, given the id of the text that describes it. */
  children: (describedBy: string) => ReactNode;
}

/** A labelled input with its meaning, or its error, beneath it. */
export function FormField({ name, label, hint, error, children }: FieldProps) {
  const describedBy = error ? `${name}-error` : `${name}-hint`;
  return (
    <div className="field">
      <label htmlFor={name}>{label}</label>
      {children(describedBy)}
      {error ? (
        <span className="error" id={`${name}-error`}>
          {error}
        </span>
      ) : (
        <span className="hint" id={`${name}-hint`}>
          {hint}
        </span>
      )}
    </div>
  );
}

/** A number box; `step` other than 1 allows decimals. */
export function NumberField({ value, step = '1', ...field }: Omit<FieldProps, 'children'> & { value: string; step?: string }) {
  return (
    <FormField {...field}>
      {(describedBy) => (
        <input
          id={field.name}
          name={field.name}
          type="number"
          step={step}
          inputMode={step === '1' ? 'numeric' : 'decimal'}
          defaultValue={value}
          aria-invalid={!!field.error}
          aria-describedby={describedBy}
        />
      )}
    </FormField>
  );
}

/** A text box. */
export function TextField({ value, placeholder, ...field }: Omit<FieldProps, 'children'> & { value: string; placeholder?: string }) {
  return (
    <FormField {...field}>
      {(describedBy) => (
        <input id={field.name} name={field.name} defaultValue={value} placeholder={placeholder} aria-invalid={!!field.error} aria-describedby={describedBy} />
      )}
    </FormField>
  );
}
