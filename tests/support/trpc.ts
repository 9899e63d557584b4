import { TRPCError } from '@trpc/server';
import { expect } from 'vitest';
import { ZodError } from 'zod';
import { isError, ValidationError } from '../../server/errors';

/** Awaits a call that must be refused with `code` (and `message`, when given); returns the error. */
export async function expectTrpcError(promise: Promise<unknown>, code: TRPCError['code'], message?: string | RegExp): Promise<TRPCError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, 'expected a refusal').toBeInstanceOf(TRPCError);
  expect((error as TRPCError).code).toBe(code);
  if (message) expect((error as TRPCError).message).toMatch(message);
  return error as TRPCError;
}

/** A refusal's field → its first message, as a form shows them. */
export function fieldsOf(error: TRPCError): Record<string, string> {
  if (error.cause instanceof ZodError) return Object.fromEntries(error.cause.issues.toReversed().map((issue) => [String(issue.path[0]), issue.message]));
  return isError(error.cause, ValidationError) ? { [error.cause.field ?? '']: error.cause.message } : {};
}
