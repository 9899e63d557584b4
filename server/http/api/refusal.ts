import { isError, LimitError, NotFoundError, UnauthorizedError, UnavailableError, ValidationError } from '../../errors';

/**
 * Why an API request got no answer, independent of the API's wording: each API's router turns it
 * into its own error body. Anything not a domain error is the job's failure (its workflow failed),
 * told with the innermost cause, which names the backend's complaint.
 */
export interface Refusal {
  status: number;
  kind: 'unauthorized' | 'model' | 'invalid' | 'limit' | 'unavailable' | 'failed';
  message: string;
  /** The request field at fault (400s, and the model for 404s). */
  param: string | null;
  /** Seconds until a retry can succeed (429s), when the scheduler or the budget says. */
  retryAfter: number | null;
}

/**
 * A body the API cannot read as a request (bad JSON, a field of the wrong type): always a 400,
 * even for the model field, which is a 404 only when admission finds no such model.
 */
export class InvalidRequest extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
    readonly status: 400 | 413 = 400,
  ) {
    super(message);
  }
}

export function refusalOf(error: unknown, now = Date.now()): Refusal {
  const base = { param: null, retryAfter: null };
  if (error instanceof InvalidRequest) return { ...base, status: error.status, kind: 'invalid', message: error.message, param: error.param };
  if (isError(error, UnauthorizedError)) return { ...base, status: 401, kind: 'unauthorized', message: error.message };
  if (isError(error, ValidationError)) {
    if (error.field === 'model') return { ...base, status: 404, kind: 'model', message: error.message, param: 'model' };
    return { ...base, status: 400, kind: 'invalid', message: error.message, param: error.field ?? null };
  }
  if (isError(error, NotFoundError)) return { ...base, status: 404, kind: 'invalid', message: error.message };
  if (isError(error, LimitError)) {
    const retryAfter = error.retryAt ? Math.max(1, Math.ceil((error.retryAt.getTime() - now) / 1000)) : null;
    return { ...base, status: 429, kind: 'limit', message: error.message, retryAfter };
  }
  if (isError(error, UnavailableError)) return { ...base, status: 503, kind: 'unavailable', message: error.message };
  return { ...base, status: 500, kind: 'failed', message: `The request failed: ${innermost(error)}` };
}

function innermost(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

/** A zod issue's path as an API names a field: `messages[0].content`. */
export function paramOf(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i > 0 ? '.' : ''}${String(key)}`)).join('');
}
