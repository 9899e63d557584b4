import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppStack, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';
import { isError, LimitError, UnauthorizedError, ValidationError } from '../../server/errors';

/** Sign-up is limited per client address, sign-in per account and per address, by one limiter in PostgreSQL. */

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

describe('sign-in limits', () => {
  const signUp = (email: string, password: string, ip: string) => stack.services.auth.signUp({ name: 'Someone', email, password }, { ip });

  it('locks an account after 10 failures, even for the right password, with the time it frees', async () => {
    await signUp('target@example.com', 'right-password-here', '192.0.2.1');
    for (let i = 0; i < 10; i++) {
      // From ten addresses: the account's count, not an address's.
      expect(isError(await settle(stack.services.auth.signIn('target@example.com', `wrong-${i}`, { ip: `192.0.2.${10 + i}` })), UnauthorizedError)).toBe(true);
    }
    const error = await settle(stack.services.auth.signIn('Target@Example.com', 'right-password-here', { ip: '192.0.2.99' }));
    expect(isError(error, LimitError)).toBe(true);
    expect(error!.message).toMatch(/^Too many failed sign-in attempts; try again after .+ UTC\.$/);
    expect((error as LimitError).retryAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it('lets the right password through from a browser that signed in to the account before; guesses from it still count', async () => {
    const { device } = await signUp('owner@example.com', 'owners-own-password', '192.0.2.2');
    for (let i = 0; i < 10; i++) await settle(stack.services.auth.signIn('owner@example.com', `guess-${i}`, { ip: '203.0.113.50' }));
    expect(isError(await settle(stack.services.auth.signIn('owner@example.com', 'owners-own-password', { ip: '192.0.2.2' })), LimitError)).toBe(true);

    const session = await stack.services.auth.signIn('owner@example.com', 'owners-own-password', { ip: '192.0.2.2', device: device.token });
    expect(await stack.services.sessions.getUser(session.token)).toMatchObject({ email: 'owner@example.com' });
    // Another account's device cookie, or a forged one, is no pass.
    const other = await signUp('other@example.com', 'another-password-1', '192.0.2.3');
    for (const forged of [other.device.token, `${device.token.split('.')[0]}.AAAA.BBBB`, 'garbage']) {
      expect(isError(await settle(stack.services.auth.signIn('owner@example.com', 'owners-own-password', { ip: '192.0.2.2', device: forged })), LimitError)).toBe(true);
    }
  });

  it('blocks an address spraying one password over many accounts, not the accounts or other addresses', async () => {
    const ip = '198.51.100.77';
    for (let i = 0; i < 30; i++) {
      expect(isError(await settle(stack.services.auth.signIn(`spray-${i}@example.com`, 'Summer2026!', { ip })), UnauthorizedError)).toBe(true);
    }
    await signUp('sprayed@example.com', 'sprayed-password', '192.0.2.4');
    const error = await settle(stack.services.auth.signIn('sprayed@example.com', 'sprayed-password', { ip }));
    expect(isError(error, LimitError)).toBe(true);
    expect(error!.message).toMatch(/^Too many failed sign-in attempts from your network; try again after .+ UTC\.$/);
    await stack.services.auth.signIn('sprayed@example.com', 'sprayed-password', { ip: '198.51.100.78' });
  });

  it('keeps the counts in PostgreSQL, where another web process sees them', async () => {
    await signUp('shared@example.com', 'shared-password-1', '192.0.2.5');
    const other = await startAppStack({ databaseUrl: db.url });
    try {
      for (let i = 0; i < 10; i++) await settle(other.services.auth.signIn('shared@example.com', `wrong-${i}`, { ip: `192.0.2.${40 + i}` }));
      expect(isError(await settle(stack.services.auth.signIn('shared@example.com', 'shared-password-1', { ip: '192.0.2.5' })), LimitError)).toBe(true);
    } finally {
      await other.stop();
    }
  });

  it('refuses an email over 254 characters without looking it up or counting it', async () => {
    const long = `${'a'.repeat(10_000)}@example.com`;
    for (let i = 0; i < 12; i++) {
      expect(isError(await settle(stack.services.auth.signIn(long, 'whatever', { ip: '192.0.2.6' })), UnauthorizedError)).toBe(true);
    }
    expect(await stack.prisma.rateLimit.count({ where: { key: { contains: 'aaaa' } } })).toBe(0);
  });
});
