import { TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isError, ValidationError } from '../../server/errors';
import { createSimulator, type Simulator } from '../../simulator';
import { startAppStack, TEST_REGISTRATION_TOKEN, testKeyring, type AppStack } from '../support/app-stack';
import { useTestDatabase } from '../support/db';
import { expectTrpcError } from '../support/trpc';

/**
 * Backends as live configuration, through the admin procedures against the real PostgreSQL and a
 * simulated Ollama and cloud endpoint: what they accept, refuse, seal and audit. (The scheduler
 * and workers following the rows: tests/scheduler/live-backends.test.ts.)
 */

const db = useTestDatabase({ seed: true });
let stack: AppStack;
let ollama: Simulator;
let cloud: Simulator;

beforeAll(async () => {
  [ollama, cloud] = await Promise.all([
    createSimulator({ models: [{ name: 'qwen2.5-coder:7b', contextWindow: 32_768 }, { name: 'llama3.1:8b', contextWindow: 131_072 }] }),
    createSimulator({ server: 'openai', models: [{ name: 'gpt-4o-mini', contextWindow: 128_000 }] }),
  ]);
  stack = await startAppStack({ databaseUrl: db.url });
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([ollama?.close(), cloud?.close()]);
});

const admin = async () => (await stack.signIn('admin@switchyard.dev', 'admin-password')).caller;
/** Field → its first message, as the form shows them. */
const fieldsOf = (error: TRPCError) =>
  error.cause instanceof ZodError
    ? Object.fromEntries(error.cause.issues.toReversed().map((issue) => [String(issue.path[0]), issue.message]))
    : isError(error.cause, ValidationError)
      ? { [error.cause.field ?? '']: error.cause.message }
      : {};

/** Everything bad input could have changed. */
const state = async () => ({
  backends: await stack.prisma.backend.findMany({ orderBy: { id: 'asc' } }),
  audits: await stack.prisma.auditLog.count(),
});

describe('backends admin', () => {
  it('adds an Ollama backend with the models it reports, named after its host, audited', async () => {
    const caller = await admin();
    const { backend, scheduler } = await caller.backends.create({ kind: 'ollama', url: `${ollama.url}/`, pool: 'dedicated', slots: 2 });
    // This stack runs no worker, hence no scheduler; it reads the rows when it starts.
    expect(scheduler).toBe('not-running');
    const host = new URL(ollama.url).host;
    expect(backend).toMatchObject({ id: `ollama@${host}`, name: host, url: ollama.url, pool: 'dedicated', slots: 2, draining: false, enabled: true, apiKeyLast4: null });
    expect(backend.models.toSorted()).toEqual(['llama3.1:8b', 'qwen2.5-coder:7b']);
    expect((await caller.backends.list()).find((b) => b.id === backend.id)).toMatchObject({ state: 'serving', runningJobs: 0 });
    const audit = await stack.prisma.auditLog.findFirstOrThrow({ where: { action: 'backend.create', targetId: backend.id } });
    expect(audit.data).toMatchObject({ name: host, after: { kind: 'ollama', url: ollama.url, pool: 'dedicated', slots: 2, apiKey: null } });
  });

  it('seals a cloud key: stored encrypted, shown as its last four characters, never returned or audited in clear', async () => {
    const caller = await admin();
    const key = 'sk-test-live-backends-1234';
    const { backend } = await caller.backends.create({ kind: 'openai', name: 'OpenAI (test)', url: `${cloud.url}/v1`, pool: 'cloud', slots: 4, apiKey: key, rpmLimit: 500 });
    expect(backend).toMatchObject({ name: 'OpenAI (test)', apiKeyLast4: '1234', rpmLimit: 500, models: ['gpt-4o-mini'] });
    const row = await stack.prisma.backend.findUniqueOrThrow({ where: { id: backend.id } });
    expect(row.apiKeySealed).not.toContain(key);
    expect(testKeyring.openText(row.apiKeySealed!)).toBe(key);

    await caller.backends.update({ backendId: backend.id, apiKey: 'sk-rotated-key-9876' });
    expect(testKeyring.openText((await stack.prisma.backend.findUniqueOrThrow({ where: { id: backend.id } })).apiKeySealed!)).toBe('sk-rotated-key-9876');

    const shown = JSON.stringify([await caller.backends.list(), await caller.backends.get({ backendId: backend.id })]);
    const audits = JSON.stringify((await stack.prisma.auditLog.findMany({ where: { targetId: backend.id }, select: { data: true } })).map((a) => a.data));
    for (const text of [shown, audits]) {
      expect(text).not.toContain('sk-test-live');
      expect(text).not.toContain('sk-rotated');
      expect(text).not.toContain(row.apiKeySealed!);
    }
    const update = await stack.prisma.auditLog.findFirstOrThrow({ where: { action: 'backend.update', targetId: backend.id } });
    expect(update.data).toEqual({ name: 'OpenAI (test)', before: { apiKey: '…1234' }, after: { apiKey: '…9876' } });
  });

  it('refuses bad input with a 4xx naming the field, and changes nothing', async () => {
    const caller = await admin();
    const before = await state();
    const taken = before.backends[0]!;
    const valid = { kind: 'ollama' as const, url: 'http://127.0.0.1:9', pool: 'local', slots: 1 };

    const refusals: [() => Promise<unknown>, Record<string, string | RegExp>][] = [
      [() => caller.backends.create({ ...valid, url: 'http://8.8.8.8:11434' }), { url: /not among the hosts backends may use/ }],
      [() => caller.backends.create({ ...valid, url: 'http://169.254.169.254/latest' }), { url: /link-local or metadata/ }],
      [() => caller.backends.create({ ...valid, url: 'http://admin:secret@127.0.0.1:11434' }), { url: /user name or password/ }],
      [() => caller.backends.create({ ...valid, url: 'file:///etc/passwd' }), { url: /http or https/ }],
      [() => caller.backends.create({ ...valid, url: 'http://127.0.0.1:9\u0000' }), { url: 'URL must not contain control characters.' }],
      [() => caller.backends.create({ ...valid, name: 'gpu\u0000box' }), { name: 'Name must not contain control characters.' }],
      [() => caller.backends.create({ ...valid, url: `${taken.url}/` }), { url: /already has this URL/ }],
      [() => caller.backends.create({ ...valid, pool: 'Not A Pool' }), { pool: /lower-case letters/ }],
      [() => caller.backends.create({ ...valid, slots: 0 }), { slots: 'Slots must be between 1 and 256.' }],
      [() => caller.backends.create({ ...valid, apiKey: 'sk-should-not-be-here' }), { apiKey: 'Ollama backends take no API key.' }],
      [() => caller.backends.create({ ...valid, kind: 'openai', url: 'http://127.0.0.1:9/v1', prefetch: 2 }), { prefetch: /prefetch stays 0/ }],
      [() => caller.backends.create({ ...valid, kind: 'openai', url: 'http://127.0.0.1:9/v1', apiKey: 'sk with spaces' }), { apiKey: 'API key must not contain spaces.' }],
      [() => caller.backends.create({ ...valid, kind: 'vllm' as 'ollama' }), { kind: /Kind must be ollama or openai/ }],
      [() => caller.backends.update({ backendId: taken.id, url: 'http://8.8.8.8:11434' }), { url: /not among/ }],
    ];
    for (const [attempt, fields] of refusals) {
      const error = await expectTrpcError(attempt(), 'BAD_REQUEST');
      const shown = fieldsOf(error);
      for (const [field, message] of Object.entries(fields)) expect(shown[field], JSON.stringify(shown)).toMatch(message);
    }
    await expectTrpcError(caller.backends.update({ backendId: 'ollama@nowhere:1', slots: 2 }), 'NOT_FOUND');
    expect(await state()).toEqual(before);
  });

  it('drains and undrains a backend, leaves it out of what the scheduler is given, and removes it once idle', async () => {
    const caller = await admin();
    const id = `ollama@${new URL(ollama.url).host}`;
    const served = async () => (await stack.prisma.backend.findMany({ where: { enabled: true, draining: false }, select: { id: true } })).map((b) => b.id);

    expect((await caller.backends.drain({ backendId: id })).backend.draining).toBe(true);
    // Nothing runs on it: drained at once.
    expect(await caller.backends.get({ backendId: id })).toMatchObject({ state: 'drained', runningJobs: 0 });
    const { loadServing } = await import('../../server/services/backends');
    expect((await loadServing(stack.prisma)).backends.map((b) => b.id)).not.toContain(id);
    expect(await served()).not.toContain(id);

    await caller.backends.undrain({ backendId: id });
    expect((await loadServing(stack.prisma)).backends.map((b) => b.id)).toContain(id);
    const actions = await stack.prisma.auditLog.findMany({ where: { targetId: id, action: { in: ['backend.drain', 'backend.undrain'] } }, orderBy: { id: 'asc' } });
    expect(actions.map((a) => [a.action, a.data])).toEqual([
      ['backend.drain', { name: expect.any(String), before: { draining: false }, after: { draining: true } }],
      ['backend.undrain', { name: expect.any(String), before: { draining: true }, after: { draining: false } }],
    ]);

    await caller.backends.delete({ backendId: id });
    expect(await stack.prisma.backend.findUnique({ where: { id } })).toBeNull();
    expect(await stack.prisma.auditLog.count({ where: { action: 'backend.delete', targetId: id } })).toBe(1);
  });

  it('lets an instance register and drain itself with the registration token, by the same rules', async () => {
    const post = (path: string, body: unknown, token = TEST_REGISTRATION_TOKEN) =>
      fetch(`${stack.url}/api/backends/${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const before = await state();
    expect((await post('register', { url: ollama.url }, 'not-the-token')).status).toBe(401);
    const foreign = await post('register', { url: 'http://8.8.8.8:11434' });
    expect(foreign.status).toBe(400);
    expect(await foreign.json()).toMatchObject({ field: 'url', error: expect.stringMatching(/not among the hosts/) });
    expect((await post('register', { url: ollama.url, pool: 'Bad Pool' })).status).toBe(400);
    expect((await fetch(`${stack.url}/api/backends/register`, { method: 'POST', headers: { authorization: `Bearer ${TEST_REGISTRATION_TOKEN}`, 'content-type': 'application/json' }, body: '{' })).status).toBe(400);
    expect(await state()).toEqual(before);

    const registered = await post('register', { url: ollama.url, pool: 'burst', slots: 2 });
    expect(registered.status).toBe(200);
    const { id } = (await registered.json()) as { id: string };
    expect(await stack.prisma.backend.findUniqueOrThrow({ where: { id } })).toMatchObject({ pool: 'burst', slots: 2, draining: false });
    // Registering again (a restarted instance) changes nothing; after a drain it brings the instance back.
    expect((await post('register', { url: ollama.url, pool: 'burst', slots: 2 })).status).toBe(200);
    expect(await (await post('drain', { url: ollama.url })).json()).toEqual({ id, name: expect.any(String), state: 'drained', runningJobs: 0 });
    expect(await (await post('drain', { url: 'http://127.0.0.1:9' })).json()).toEqual({ state: 'unregistered' });
    await post('register', { url: ollama.url });
    expect(await stack.prisma.backend.findUniqueOrThrow({ where: { id } })).toMatchObject({ draining: false });
    const audits = await stack.prisma.auditLog.findMany({ where: { targetId: id, actorId: null }, orderBy: { id: 'asc' } });
    expect(audits.map((a) => [a.action, a.actorId])).toEqual([
      ['backend.create', null],
      ['backend.drain', null],
      ['backend.register', null],
    ]);
  });
});
