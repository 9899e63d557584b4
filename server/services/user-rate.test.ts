import { describe, expect, it } from 'vitest';
import { isError, LimitError } from '../errors';
import { createUserRate } from './user-rate';

const refused = (take: () => void) => {
  try {
    take();
    return null;
  } catch (error) {
    return error as LimitError;
  }
};

describe('createUserRate', () => {
  it('allows a burst, then the steady rate, per user, and says when to retry', () => {
    const rate = createUserRate({ burst: 3, perSecond: 2 }, 'tests');
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) rate.take('ana', t0);
    const error = refused(() => rate.take('ana', t0));
    expect(isError(error, LimitError)).toBe(true);
    expect(error!.message).toBe('Too many tests at once; wait a moment and try again.');
    expect(error!.retryAt!.getTime()).toBe(t0 + 500);
    // Another user has their own bucket.
    rate.take('ben', t0);
    // Half a second refills one request.
    rate.take('ana', t0 + 500);
    expect(refused(() => rate.take('ana', t0 + 500))).not.toBeNull();
  });
});
