import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { Prisma } from '../../server/generated/prisma/client';
import { jobWorkflowId } from '../../workflows/definitions';
import { statusQuery } from '../../workflows/scheduler/api';
import { recordHistory } from '../support/histories';
import { useJobStack } from '../support/job-stack';
import { expectTrpcError } from '../support/trpc';
import { until } from '../support/until';

/**
 * The OpenAI-compatible API with the official `openai` client, unchanged, against the whole job
 * path (real PostgreSQL, Temporal, scheduler, simulator). One slot: a request holding it makes the
 * next one wait, which is how the queued and the disconnect cases are built.
 */
const { stack, sim, temporal } = useJobStack({
  simulators: [{ slots: 1, tokensPerSecond: 20, timeToFirstTokenMs: 20, modelLoadMs: 0, outputTokens: 60 }],
  slots: 1,
  leaseCheckMs: 1_000,
});

const MODEL = 'qwen2.5-coder:7b';
const ask = (content: string) => [{ role: 'user' as const, content }];

/** A user on a tier of its own (pool "local"), in a team of their own, with a key. */
async function keyed(tier: Partial<Prisma.TierCreateInput> = {}) {
  const tag = randomUUID().slice(0, 8);
  const created = await stack.prisma.tier.create({ data: { name: `api-${tag}`, allowedModels: [], poolPreference: ['local'], maxQueuedPerUser: 0, ...tier } });
  const user = await stack.prisma.user.create({ data: { email: `api-${tag}@example.com`, name: `Api ${tag}`, passwordHash: 'unused' }, select: { id: true, email: true, name: true, isAdmin: true } });
  const team = await stack.prisma.team.create({ data: { name: `Team ${tag}`, slug: `api-${tag}`, tierId: created.id, memberships: { create: { userId: user.id, role: 'owner' } } } });
  const { id, key } = await stack.services.apiKeys.create(user, { teamId: team.id, name: `editor ${tag}` });
  return { user, team, keyId: id, key, client: client(key) };
}

/** The official client, pointed at Switchyard; `fetch` only to read the raw stream beside it. */
const client = (apiKey: string, fetch?: typeof globalThis.fetch) => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey, maxRetries: 0, ...(fetch ? { fetch } : {}) });

/** A fetch that also keeps the raw text of every response body it reads (SSE comments included). */
function recordingFetch() {
  const record = { raw: '' };
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const response = await globalThis.fetch(input, init);
    const copy = response.clone();
    void (async () => {
      const reader = copy.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (let part = await reader.read(); !part.done; part = await reader.read()) record.raw += part.value;
    })().catch(() => undefined);
    return response;
  };
  return { fetch, record };
}

const leases = async () => (await stack.scheduler().query(statusQuery)).leases;
const jobCount = () => stack.prisma.job.count();

describe('OpenAI-compatible API: answers', () => {
  it('answers a chat non-streamed, as a chat job of the key’s team with its answer stored', async () => {
    const { user, team, keyId, client } = await keyed();
    const { data, response } = await client.chat.completions.create({ model: MODEL, messages: ask('Say hello'), max_tokens: 25, temperature: 0.2 }).withResponse();
    const jobId = response.headers.get('x-switchyard-job-id')!;
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe(MODEL);
    expect(data.choices[0]!.message).toMatchObject({ role: 'assistant', content: expect.stringMatching(/\S/) });
    expect(data.choices[0]!.finish_reason).toBe('length');
    expect(data.usage).toMatchObject({ completion_tokens: 25, total_tokens: data.usage!.prompt_tokens + 25 });

    const job = await stack.prisma.job.findUniqueOrThrow({ where: { id: jobId }, include: { result: true, project: true } });
    expect(job).toMatchObject({ kind: 'chat', status: 'completed', teamId: team.id, apiKeyId: keyId, model: MODEL, output: data.choices[0]!.message.content, completionTokens: 25, result: null });
    expect(job.project.name).toBe('API');
    expect(job.chat).toEqual({ messages: ask('Say hello'), maxTokens: 25, temperature: 0.2 });
    // The request's max_tokens reached the backend.
    expect(sim.requests().at(-1)!.maxTokens).toBe(25);
    // Its client is gone: an API request is sent again, not retried from the web.
    await expectTrpcError(stack.caller(user).jobs.retry({ jobId }), 'BAD_REQUEST', 'An API request cannot be retried; send it again.');
  });

  it('streams a chat as SSE chunks that add up to the stored answer, with usage at the end when asked', async () => {
    const { client } = await keyed();
    const { data: stream, response } = await client.chat.completions
      .create({ model: MODEL, messages: ask('Stream please'), stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const jobId = response.headers.get('x-switchyard-job-id')!;
    let text = '';
    const finishes: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      usage = chunk.usage ?? usage;
    }
    const job = await stack.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(text).toBe(job.output);
    expect(finishes).toEqual(['stop']);
    expect(usage).toMatchObject({ completion_tokens: 60, prompt_tokens: job.promptTokens });
    await recordHistory(temporal.client, 'chat-streamed', jobWorkflowId(jobId));
  });

  it('lists the models the key’s tier allows', async () => {
    const { client: open } = await keyed();
    expect((await open.models.list()).data.map((m) => m.id)).toContain(MODEL);
    const { client: narrow } = await keyed({ allowedModels: ['llama3.1:8b'] });
    expect((await narrow.models.list()).data.map((m) => m.id)).toEqual(['llama3.1:8b']);
  });
});

describe('OpenAI-compatible API: refusals', () => {
  it('refuses an unknown model with 404 model_not_found, naming the models the tier can use, and creates nothing', async () => {
    const { client } = await keyed();
    const before = await jobCount();
    const error = await client.chat.completions.create({ model: 'no-such-model', messages: ask('hi') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect((error as Error).message).toMatch(/There is no model no-such-model in the catalogue; the api-\w+ tier can use .*qwen2\.5-coder:7b/);
    expect(await jobCount()).toBe(before);
  });

  it('refuses a revoked key, an expired key and a missing one with 401', async () => {
    const { user, keyId, client: revoked } = await keyed();
    await stack.services.apiKeys.revoke(user, keyId);
    const error = await revoked.models.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as Error).message).toMatch(/was revoked/);

    const { keyId: expiring, client: expired } = await keyed();
    await stack.prisma.apiKey.update({ where: { id: expiring }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const before = await jobCount();
    const refused = await expired.chat.completions.create({ model: MODEL, messages: ask('hi') }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((refused as Error).message).toMatch(/expired/);
    expect(await jobCount()).toBe(before);

    const anonymous = await fetch(`${stack.url}/v1/models`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'invalid_api_key', message: expect.stringMatching(/Authorization: Bearer/) } });
  });

  it('refuses a team over its budget with 429 and Retry-After until the period ends', async () => {
    const { team, client } = await keyed({ tokenBudget: 50, budgetPeriodSeconds: 3_600 });
    await client.chat.completions.create({ model: MODEL, messages: ask('use the budget up') });
    const error = await client.chat.completions.create({ model: MODEL, messages: ask('one more') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const retryAfter = Number((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3_600);
    expect((error as Error).message).toMatch(new RegExp(`${team.name} has used \\d+ of the 50 tokens`));
    expect(await stack.prisma.job.count({ where: { teamId: team.id } })).toBe(1);
  });

  it.each([
    ['bad JSON', '{"model": "qwen2.5-coder:7b", "messages": [', null, /not valid JSON/],
    ['a NUL byte', JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'a\u0000b' }] }), 'messages[0].content', /control characters/],
    ['a lone surrogate', `{"model":"${MODEL}","messages":[{"role":"user","content":"a\\ud800b"}]}`, 'messages[0].content', /not valid text/],
    ['a temperature out of range', JSON.stringify({ model: MODEL, messages: ask('x'), temperature: 7 }), 'temperature', /between 0 and 2/],
    ['no messages', JSON.stringify({ model: MODEL, messages: [] }), 'messages', /must not be empty/],
    ['no model (a 400, not an unknown model’s 404)', JSON.stringify({ messages: ask('x') }), 'model', /model is required/],
  ])('refuses %s with 400 naming the field, and creates nothing', async (_case, body, param, message) => {
    const { key } = await keyed();
    const before = await jobCount();
    const response = await fetch(`${stack.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { message: string; type: string; param: string | null } };
    expect(error).toMatchObject({ type: 'invalid_request_error', param });
    expect(error.message).toMatch(message);
    expect(await jobCount()).toBe(before);
  });
});

describe('OpenAI-compatible API: through the queue', () => {
  it('tells a request waiting behind a full pool its position in SSE comments, then answers it; a client that leaves cancels its job and frees the slot', async () => {
    const { client: blocker } = await keyed();
    const controller = new AbortController();
    // The holder generates slowly (its pace is fixed when it starts), so it is still generating
    // when its client leaves however long the wait below takes on a busy machine.
    sim.setFaults({ slowdownFactor: 50 });
    const { data: holding, response: held } = await blocker.chat.completions
      .create({ model: MODEL, messages: ask('hold the slot'), stream: true }, { signal: controller.signal })
      .withResponse();
    const heldJob = held.headers.get('x-switchyard-job-id')!;
    const holdingIterator = holding[Symbol.asyncIterator]();
    await holdingIterator.next();
    expect(await leases()).toContain(heldJob);
    sim.setFaults({ slowdownFactor: 1 });

    const { fetch, record } = recordingFetch();
    const { key } = await keyed();
    const waiting = client(key, fetch).chat.completions.create({ model: MODEL, messages: ask('wait for it'), stream: true });
    await until(() => /: queued position=0 eta=\d+s\n\n/.test(record.raw), 'a position comment for the waiting request');

    // The blocker's client leaves mid-stream: its job is cancelled and its slot goes to the waiting one.
    controller.abort();
    await until(async () => (await stack.prisma.job.findUniqueOrThrow({ where: { id: heldJob } })).status === 'cancelled', 'the abandoned job to be cancelled');
    await until(async () => !(await leases()).includes(heldJob), 'the abandoned job’s slot to be freed');

    let text = '';
    for await (const chunk of await waiting) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    // Comments first, then the answer's events.
    expect(record.raw.indexOf(': queued')).toBeLessThan(record.raw.indexOf('data: '));
    const abandoned = sim.requests().filter((r) => r.outcome === 'aborted');
    expect(abandoned.length).toBeGreaterThan(0);
  });
});
