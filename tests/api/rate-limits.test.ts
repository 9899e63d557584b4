import { randomUUID } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_RATES } from '../../server/services';
import { startAppStack, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';

/** What queries Temporal, and room joins, are limited per user: one user's burst leaves others served. */

const db = useTestDatabase();
let stack: AppStack;

beforeAll(async () => {
  stack = await startAppStack({ databaseUrl: db.url, userRates: USER_RATES });
});

afterAll(async () => {
  await stack?.stop();
});

let seq = 0;
async function user() {
  const email = `rate-${++seq}@example.com`;
  const { token } = await stack.services.auth.signUp({ name: `Rate ${seq}`, email, password: 'rate-password-1' }, { ip: `10.8.0.${seq}` });
  return { token, caller: stack.caller(await stack.services.sessions.getUser(token)) };
}

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'OK',
    (error: unknown) => (error instanceof TRPCError ? error.code : String(error)),
  );

describe('per-user limits on workflow queries', () => {
  it('limits a burst of queue.get and jobs.live from one user with a clear message, while another user is served', async () => {
    const [greedy, other] = await Promise.all([user(), user()]);
    // At once, so the bucket's refill (2 a second) cannot keep up whatever the machine's speed.
    const burst = Array.from({ length: 80 }, (_, i) => (i % 2 ? greedy.caller.queue.get() : greedy.caller.jobs.live({ jobId: randomUUID() })));
    const outcomes = await Promise.allSettled(burst);
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' && o.reason instanceof TRPCError && o.reason.code === 'TOO_MANY_REQUESTS' ? [o.reason] : []));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.message).toBe('Too many live job and queue requests at once; wait a moment and try again.');
    // The rest were served (or not found: the job ids are made up).
    for (const o of outcomes) if (o.status === 'rejected' && !refused.includes(o.reason)) expect((o.reason as TRPCError).code).toBe('NOT_FOUND');
    expect(await codeOf(other.caller.queue.get())).toBe('OK');
  });
});

describe('per-user limits on room joins', () => {
  it('refuses joins past the burst with a message, while another user joins', async () => {
    const [greedy, other] = await Promise.all([user(), user()]);
    const [socket, otherSocket] = await Promise.all([stack.connect(greedy.token), stack.connect(other.token)]);
    const join = (s: typeof socket) =>
      new Promise<{ ok: boolean; error?: string }>((resolve) => s.emit('join', { kind: 'team', id: randomUUID() }, resolve));
    const answers = await Promise.all(Array.from({ length: 150 }, () => join(socket)));
    expect(answers.map((a) => a.error)).toContain('Too many room joins at once; wait a moment and try again.');
    expect(answers.every((a) => a.error === 'not found' || a.error === 'Too many room joins at once; wait a moment and try again.')).toBe(true);
    expect(await join(otherSocket)).toEqual({ ok: false, error: 'not found' });
  });
});
