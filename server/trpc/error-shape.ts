import type { TRPCError } from '@trpc/server';
import type { $ZodIssue } from 'zod/v4/core';
import { ZodError } from 'zod';
import { isError, LimitError, ValidationError } from '../errors';

/**
 * What a client is told about a failed call: a sentence and, for input errors, a sentence per
 * field. Never a stack, a zod issue list, a parser's or superjson's internals or a database
 * message: those are for the server's log.
 */
export interface ClientError {
  message: string;
  fieldErrors: Record<string, string> | null;
  retryAt: string | null;
}

export const INTERNAL_MESSAGE = 'Something went wrong on our side. Try again in a moment; if it keeps failing, tell an admin.';
export const UNREADABLE_MESSAGE = 'The request could not be read: send the input as JSON the way the tRPC client does ({"json": …}).';

const article = (noun: string) => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

/** One zod issue as a sentence; its own message when a schema wrote one. */
function sentence(issue: $ZodIssue): string {
  const field = issue.path.join('.');
  if (issue.code === 'invalid_type') {
    if (!field) return 'The request has no input, or its input is not an object.';
    return `${field} must be ${article(String(issue.expected))}.`;
  }
  return issue.message;
}

export function describeError(error: TRPCError): ClientError {
  const cause = error.cause;
  const retryAt = isError(cause, LimitError) ? (cause.retryAt?.toISOString() ?? null) : null;
  if (cause instanceof ZodError) {
    const fieldErrors: Record<string, string> = {};
    for (const issue of cause.issues) fieldErrors[issue.path.join('.') || 'input'] ??= sentence(issue);
    return { message: sentence(cause.issues[0]!), fieldErrors, retryAt };
  }
  if (isError(cause, ValidationError)) {
    return { message: cause.message, fieldErrors: cause.field ? { [cause.field]: cause.message } : null, retryAt };
  }
  if (error.code === 'INTERNAL_SERVER_ERROR') return { message: INTERNAL_MESSAGE, fieldErrors: null, retryAt };
  // tRPC wraps what JSON.parse and superjson throw on a malformed body ("Cannot destructure
  // property 'json'", "Maximum call stack size exceeded", "Trying to deserialize unknown custom
  // value") in a BAD_REQUEST with the raw error as cause; its own refusals have none.
  if ((error.code === 'BAD_REQUEST' || error.code === 'PARSE_ERROR') && cause instanceof Error) {
    return { message: UNREADABLE_MESSAGE, fieldErrors: null, retryAt };
  }
  return { message: error.message, fieldErrors: null, retryAt };
}
