import { TRPCError } from '@trpc/server';
import { expect } from 'vitest';

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
