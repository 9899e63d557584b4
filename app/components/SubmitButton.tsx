import type { ReactNode } from 'react';

/** A form's submit button, disabled and saying `pending` while the form is being sent. */
export function SubmitButton({ busy, pending, children }: { busy: boolean; pending: string; children: ReactNode }) {
  return (
    <button type="submit" disabled={busy}>
      {busy ? pending : children}
    </button>
  );
}
