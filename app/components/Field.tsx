import type { ReactNode } from 'react';

/** What a form control needs to be announced with its field's error or hint. */
export interface ControlAria {
  id: string;
  'aria-invalid': boolean;
  'aria-describedby': string | undefined;
}

interface Props {
  /** The control's id; its error and hint are `<id>-error` and `<id>-hint`. */
  id: string;
  label: ReactNode;
  /** Shown under the control while it has no error. */
  hint?: ReactNode;
  error?: string | undefined;
  children: (aria: ControlAria) => ReactNode;
}

/** A labelled control with its error (or else its hint) beside it, linked for screen readers. */
export function Field({ id, label, hint, error, children }: Props) {
  const describedBy = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  // The label names the control by `htmlFor`, not by wrapping it: the hint and the error describe
  // the control (aria-describedby) and must not become part of its name.
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, 'aria-invalid': !!error, 'aria-describedby': describedBy })}
      {error ? (
        <span className="error" id={`${id}-error`}>
          {error}
        </span>
      ) : (
        hint && (
          <span className="hint" id={`${id}-hint`}>
            {hint}
          </span>
        )
      )}
    </div>
  );
}
