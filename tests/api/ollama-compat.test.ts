import { randomUUID } from 'node:crypto';
import { Ollama, type ChatResponse } from 'ollama';
import { describe, expect, it } from 'vitest';
import type { Prisma } from '../../server/generated/prisma/client';
import { statusQuery } from '../../workflows/scheduler/api';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';

/**
 * The Ollama-compatible API with the official `ollama` client, unchanged (its host and a header),
 * against the whole job path: the same queue, the same refusals, in Ollama's shapes.
 */
const { stack } = useJobStack({
  simulators: [{ slots: 1, tokensPerSecond: 20, timeToFirstTokenMs: 20, modelLoadMs: 0, outputTokens: 40 }],
  slots: 1,
  leaseCheckMs: 1_000,
});

const MODEL = 'qwen2.5-coder:7b';

async function keyed(tier: Partial<Prisma.TierCreateInput> = {}) {
  const tag = randomUUID().slice(0, 8);
  const created = await stack.prisma.tier.create({ data: { name: `ol-${tag}`, allowedModels: [], poolPreference: ['local'], maxQueuedPerUser: 0, ...tier } });
  const user = await stack.prisma.user.create({ data: { email: `ol-${tag}@example.com`, name: `Ol ${tag}`, passwordHash: 'unused' }, select: { id: true, email: true, name: true, isAdmin: true } });
  const team = await stack.prisma.team.create({ data: { name: `Team ${tag}`, slug: `ol-${tag}`, tierId: created.id, memberships: { create: { userId: user.id, role: 'owner' } } } });
  const { id, key } = await stack.services.apiKeys.create(user, { teamId: team.id, name: `tool ${tag}` });
  return { user, team, keyId: id, key, ollama: new Ollama({ host: `${stack.url}/ollama`, headers: { Authorization: `Bearer ${key}` } }) };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e as Error & { status_code?: number },
  );

describe('Ollama-compatible API', () => {
  it('streams a chat as NDJSON chunks and a final one with Ollama’s fields, stored as a chat job', async () => {
    const { team, keyId, ollama } = await keyed();
    const parts: ChatResponse[] = [];
    for await (const part of await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], stream: true, options: { num_predict: 12, temperature: 0 } })) parts.push(part);
    const final = parts.at(-1)!;
    expect(parts.slice(0, -1).every((p) => !p.done && p.message.role === 'assistant')).toBe(true);
    expect(final).toMatchObject({ model: MODEL, done: true, done_reason: 'length', eval_count: 12, message: { role: 'assistant', content: '' } });
    expect(final.total_duration).toBeGreaterThan(0);
    const text = parts.map((p) => p.message.content).join('');
    const job = await stack.prisma.job.findFirstOrThrow({ where: { teamId: team.id }, orderBy: { createdAt: 'desc' } });
    expect(job).toMatchObject({ kind: 'chat', apiKeyId: keyId, status: 'completed', output: text, completionTokens: 12 });
    expect(job.chat).toEqual({ messages: [{ role: 'user', content: 'hello' }], maxTokens: 12, temperature: 0 });
  });

  it('answers chat and generate non-streamed in one object', async () => {
    const { ollama } = await keyed();
    const chat = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: false });
    expect(chat).toMatchObject({ model: MODEL, done: true, done_reason: 'stop', eval_count: 40, message: { role: 'assistant', content: expect.stringMatching(/\S/) } });
    const generated = await ollama.generate({ model: MODEL, prompt: 'write a haiku', system: 'be brief', stream: false });
    expect(generated).toMatchObject({ model: MODEL, done: true, response: expect.stringMatching(/\S/) });
    let streamed = '';
    for await (const part of await ollama.generate({ model: MODEL, prompt: 'again', stream: true })) streamed += part.response;
    expect(streamed.length).toBeGreaterThan(0);
  });

  it('lists the tier’s models in tags, the loaded ones in ps, and a version', async () => {
    const { ollama } = await keyed({ allowedModels: [MODEL, 'llama3.1:8b'] });
    expect((await ollama.list()).models.map((m) => m.name)).toEqual(['llama3.1:8b', MODEL]);
    const expiresAt = new Date(Date.now() + 300_000);
    await stack.prisma.backendResidency.upsert({
      where: { backendId_model: { backendId: stack.backendIds[0]!, model: MODEL } },
      create: { backendId: stack.backendIds[0]!, model: MODEL, present: true, loaded: true, sizeBytes: 4_700_000_000n, expiresAt, seenAt: new Date() },
      update: { loaded: true, expiresAt },
    });
    const { models } = await ollama.ps();
    expect(models).toEqual([expect.objectContaining({ name: MODEL, size: 4_700_000_000, context_length: 32768 })]);
    expect(new Date(models[0]!.expires_at).getTime()).toBe(expiresAt.getTime());
    expect((await ollama.version()).version).toBe('0.17.4');
  });

  it('refuses an unknown model with 404, a revoked key with 401 and a team over budget with 429 and Retry-After, in Ollama’s shape', async () => {
    const { user, keyId, ollama } = await keyed({ tokenBudget: 30, budgetPeriodSeconds: 86_400 });
    const before = await stack.prisma.job.count();
    const unknown = await refusal(ollama.chat({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }));
    expect(unknown.status_code).toBe(404);
    expect(unknown.message).toMatch(/There is no model nope in the catalogue/);
    expect(await stack.prisma.job.count()).toBe(before);

    await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'spend it' }], stream: false });
    const over = await refusal(ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'more' }], stream: false }));
    expect(over.status_code).toBe(429);
    const { key } = await stack.services.apiKeys.create(user, { teamId: (await stack.prisma.apiKey.findUniqueOrThrow({ where: { id: keyId } })).teamId, name: 'raw' });
    const raw = await fetch(`${stack.url}/ollama/api/chat`, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }) });
    expect(raw.status).toBe(429);
    expect(Number(raw.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Object.keys((await raw.json()) as object)).toEqual(['error']);

    await stack.services.apiKeys.revoke(user, keyId);
    const revoked = await refusal(ollama.list());
    expect(revoked.status_code).toBe(401);
    expect(revoked.message).toMatch(/was revoked/);
  });

  it('refuses bad input with 400 and creates nothing', async () => {
    const { key, ollama } = await keyed();
    const before = await stack.prisma.job.count();
    const nul = await refusal(ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'a\u0000b' }] }));
    expect(nul.status_code).toBe(400);
    expect(nul.message).toMatch(/content must not contain control characters/);
    const badJson = await fetch(`${stack.url}/ollama/api/generate`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"model":' });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toEqual({ error: 'The request body is not valid JSON.' });
    expect(await stack.prisma.job.count()).toBe(before);
  });

  it('cancels the job of a client that aborts mid-stream and frees its slot', async () => {
    const { team, ollama } = await keyed();
    const stream = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'long answer' }], stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const job = await stack.prisma.job.findFirstOrThrow({ where: { teamId: team.id } });
    stream.abort();
    await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status === 'cancelled', 'the job to be cancelled');
    await until(async () => !(await stack.scheduler().query(statusQuery)).leases.includes(job.id), 'its slot to be freed');
  });
});
