import { data, redirect } from '@remix-run/node';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { isError, ValidationError } from '../../server/errors';

/** A posted form's fields. A body that is not a form is the sender's mistake (400), not a failure of ours. */
export async function readForm(request: Request): Promise<FormData> {
  try {
    return await request.formData();
  } catch {
    throw data('The form could not be read. Send it from its page.', { status: 400 });
  }
}

export interface FormErrors {
  fieldErrors: Record<string, string>;
  formError: string | null;
  status: number;
}

interface ZodLike {
  name: string;
  issues: { path: PropertyKey[]; message: string }[];
}

const isZodError = (e: unknown): e is ZodLike => e instanceof Error && e.name === 'ZodError' && Array.isArray((e as unknown as ZodLike).issues);

export function fieldErrorsOf(issues: ZodLike['issues']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of issues) out[String(issue.path[0] ?? '')] ??= issue.message;
  return out;
}

// Errors a person can act on; anything else (a bug, the database down) goes to the error boundary.
const SHOWN = new Set<TRPCError['code']>(['BAD_REQUEST', 'NOT_FOUND', 'FORBIDDEN', 'TOO_MANY_REQUESTS', 'SERVICE_UNAVAILABLE', 'UNAUTHORIZED']);

/**
 * A refusal from a tRPC caller, as a form shows it: messages beside fields (zod input errors,
 * a service's ValidationError with a field) or one message for the form. Null: rethrow it.
 */
export function formErrorsFrom(error: unknown): FormErrors | null {
  if (!(error instanceof TRPCError) || !SHOWN.has(error.code)) return null;
  const status = getHTTPStatusCodeFromError(error);
  const cause = error.cause;
  if (isZodError(cause)) return { fieldErrors: fieldErrorsOf(cause.issues), formError: null, status };
  if (isError(cause, ValidationError) && cause.field) return { fieldErrors: { [cause.field]: cause.message }, formError: null, status };
  return { fieldErrors: {}, formError: error.message, status };
}

/**
 * An admin form's save: the mutation's outcome, or — for a refusal a person can act on — what they
 * typed with the message of each field, for the page to show again.
 */
export async function saveForm<V, R extends object>(values: V, save: () => Promise<R>) {
  try {
    return { ok: true as const, ...(await save()) };
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ ok: false as const, values, fieldErrors: errors.fieldErrors, formError: errors.formError }, { status: errors.status });
  }
}

/** An admin page's delete button: on to `then`, or the refusal (`what` is in use, say). */
export async function deleteForm(remove: () => Promise<unknown>, then: string, what: string) {
  try {
    await remove();
    return redirect(then);
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ ok: false as const, deleteError: errors.formError ?? `The ${what} could not be deleted.` }, { status: errors.status });
  }
}

/** A loader's row named by the URL: the 404 page when there is none, or the id is malformed. */
export async function requireFound<T>(load: () => Promise<T>, what: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof TRPCError && (error.code === 'NOT_FOUND' || error.code === 'BAD_REQUEST')) {
      throw data(`There is no such ${what}.`, { status: 404 });
    }
    throw error;
  }
}
