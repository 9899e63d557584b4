import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LimitError, ValidationError } from '../errors';
import { describeError, INTERNAL_MESSAGE } from './error-shape';

describe('describeError', () => {
  it('tells a client nothing of a failure on our side (a database message stays in the log)', () => {
    const cause = new Error('invalid byte sequence for encoding "UTF8": 0x00');
    expect(describeError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: cause.message, cause }))).toEqual({
      message: INTERNAL_MESSAGE,
      fieldErrors: null,
      retryAt: null,
    });
  });

  it('turns a zod issue list into a sentence per field, the first as the message', () => {
    const parsed = z.object({ name: z.string().min(2, 'Name it.'), size: z.number() }).safeParse({ name: '', size: 'big' });
    expect(describeError(new TRPCError({ code: 'BAD_REQUEST', message: parsed.error!.message, cause: parsed.error }))).toEqual({
      message: 'Name it.',
      fieldErrors: { name: 'Name it.', size: 'size must be a number.' },
      retryAt: null,
    });
  });

  it('keeps domain refusals as they are worded, with their field and retry time', () => {
    const retryAt = new Date('2026-12-06T08:00:00Z');
    expect(describeError(new TRPCError({ code: 'TOO_MANY_REQUESTS', message: 'Slow down.', cause: new LimitError('Slow down.', retryAt) }))).toEqual({
      message: 'Slow down.',
      fieldErrors: null,
      retryAt: retryAt.toISOString(),
    });
    expect(describeError(new TRPCError({ code: 'BAD_REQUEST', message: 'Taken.', cause: new ValidationError('Taken.', 'email') })).fieldErrors).toEqual({ email: 'Taken.' });
  });
});
