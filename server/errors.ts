/**
 * Domain errors. Services throw these; the edges (tRPC's error formatter, Remix loaders) turn
 * them into status codes and messages.
 */

export class NotFoundError extends Error {
  override name = 'NotFoundError';
  constructor(what: string) {
    super(`${what} not found`);
  }
}

export class UnauthorizedError extends Error {
  override name = 'UnauthorizedError';
  constructor(message = 'sign in to continue') {
    super(message);
  }
}

export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
}

/** A request that breaks a rule of the domain; `field` says which input it concerns. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A limit was reached; `retryAt` says when it frees, when known. */
export class LimitError extends Error {
  override name = 'LimitError';
  constructor(
    message: string,
    readonly retryAt?: Date,
  ) {
    super(message);
  }
}

/** A dependency (Temporal, the database) is down; the request may succeed later. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
}
