/**
 * Domain errors. Services throw these; the edges (tRPC middleware, Remix actions) turn them into
 * status codes and messages.
 *
 * Match them with `isError`, not `instanceof`: the Remix server build and the server process each
 * load their own copy of this module, so a class from one copy is not the other's.
 */

export class NotFoundError extends Error {
  static readonly type = 'NotFoundError';
  override readonly name = NotFoundError.type;
  constructor(what: string) {
    super(`${what} not found`);
  }
}

export class UnauthorizedError extends Error {
  static readonly type = 'UnauthorizedError';
  override readonly name = UnauthorizedError.type;
  constructor(message = 'sign in to continue') {
    super(message);
  }
}

export class ForbiddenError extends Error {
  static readonly type = 'ForbiddenError';
  override readonly name = ForbiddenError.type;
}

/** A request that breaks a rule of the domain; `field` says which input it concerns. */
export class ValidationError extends Error {
  static readonly type = 'ValidationError';
  override readonly name = ValidationError.type;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A limit was reached; `retryAt` says when it frees, when known. */
export class LimitError extends Error {
  static readonly type = 'LimitError';
  override readonly name = LimitError.type;
  constructor(
    message: string,
    readonly retryAt?: Date,
  ) {
    super(message);
  }
}

/** A time as LimitError messages name it, "2026-11-27 00:00 UTC": one reading for every client; UIs show local time from `retryAt`. */
export const formatUtc = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** A dependency (Temporal, the database) is down; the request may succeed later. */
export class UnavailableError extends Error {
  static readonly type = 'UnavailableError';
  override readonly name = UnavailableError.type;
}

type DomainErrorClass<T extends Error> = { readonly type: string; prototype: T };

export function isError<T extends Error>(error: unknown, kind: DomainErrorClass<T>): error is T {
  return error instanceof Error && error.name === kind.type;
}
