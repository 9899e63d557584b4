import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppStack, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';
import { isError, LimitError, UnauthorizedError, ValidationError } from '../../server/errors';

/** Sign-up is limited per client address and sign-in per email, by one limiter (real PostgreSQL). */

const db = useTestDatabase();
let stack: AppStack;

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url });
});

afterAll(async () => {
  await stack?.stop();
});

const settle = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (e: unknown) => e as Error,
  );

describe('sign-up rate limit', () => {
  it('refuses the 11th attempt in an hour from one address, creating nothing; other addresses go on', async () => {
    const ip = '203.0.113.7';
    const started = Date.now();
    await stack.services.auth.signUp({ name: 'First', email: 'first@example.com', password: 'long-enough-password' }, { ip });
    // Probing whether emails have accounts counts as well.
    for (let i = 0; i < 9; i++) {
      const error = await settle(stack.services.auth.signUp({ name: 'Probe', email: 'first@example.com', password: 'long-enough-password' }, { ip }));
      expect(isError(error, ValidationError)).toBe(true);
    }
    const error = await settle(stack.services.auth.signUp({ name: 'Eleventh', email: 'eleventh@example.com', password: 'long-enough-password' }, { ip }));
    expect(isError(error, LimitError)).toBe(true);
    expect(error!.message).toMatch(/^Too many sign-ups from your network; try again after \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/);
    const retryAt = (error as LimitError).retryAt!.getTime();
    expect(retryAt).toBeGreaterThanOrEqual(started + 60 * 60_000);
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 60 * 60_000);
    expect(await stack.prisma.user.count({ where: { email: 'eleventh@example.com' } })).toBe(0);

    await stack.services.auth.signUp({ name: 'Elsewhere', email: 'elsewhere@example.com', password: 'long-enough-password' }, { ip: '198.51.100.2' });
    expect(await stack.prisma.user.count({ where: { email: 'elsewhere@example.com' } })).toBe(1);
  });

  it('does not count input refused before the limit is asked (a typo costs no attempt)', async () => {
    const ip = '203.0.113.8';
    for (let i = 0; i < 12; i++) {
      const error = await settle(stack.services.auth.signUp({ name: 'Typo', email: 'not-an-email', password: 'long-enough-password' }, { ip }));
      expect(isError(error, ValidationError)).toBe(true);
    }
    await stack.services.auth.signUp({ name: 'Fixed', email: 'fixed@example.com', password: 'long-enough-password' }, { ip });
  });
});

describe('sign-in rate limit', () => {
  it('locks an email after 10 failures, even for the right password, with the time it frees', async () => {
    await stack.services.auth.signUp({ name: 'Target', email: 'target@example.com', password: 'right-password-here' }, { ip: '192.0.2.1' });
    for (let i = 0; i < 10; i++) {
      expect(isError(await settle(stack.services.auth.signIn('target@example.com', `wrong-${i}`)), UnauthorizedError)).toBe(true);
    }
    const error = await settle(stack.services.auth.signIn('Target@Example.com', 'right-password-here'));
    expect(isError(error, LimitError)).toBe(true);
    expect(error!.message).toMatch(/^Too many failed sign-in attempts; try again after .+ UTC\.$/);
    expect((error as LimitError).retryAt!.getTime()).toBeGreaterThan(Date.now());
  });
});
