import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../simulator';
import { tokenize } from '../../simulator/tokens';
import { startOllama, type TestOllama } from '../support/ollama';
import { tinyLoop, tinyModels, tinyStop } from './tiny-model';
import { busyBody, keysOf, ndjson, postJson, postTogether, user } from './wire';

/**
 * The simulator held to the real server: the same calls to both, compared field by field. Both
 * run one slot and one queue place (OLLAMA_NUM_PARALLEL=1, OLLAMA_MAX_QUEUE=1).
 */

let ollama: TestOllama;
let sim: Simulator;
/** Both servers, named for assertion messages. */
let both: Array<[string, string]>;

beforeAll(async () => {
  [ollama, sim] = await Promise.all([
    startOllama({ numParallel: 1, maxQueue: 1 }),
    // A load long enough that a burst surely arrives while it lasts; the real one takes ~0.3 s.
    createSimulator({ models: tinyModels.map((m) => ({ name: m.name, contextWindow: 4096 })), slots: 1, maxQueue: 1, modelLoadMs: 2_000, tokensPerSecond: 500, timeToFirstTokenMs: 0, outputTokens: 7 }),
  ]);
  both = [
    ['ollama', ollama.url],
    ['simulator', sim.url],
  ];
});

afterAll(async () => {
  await Promise.all([ollama?.stop(), sim?.close()]);
});

/** The same call to both servers: status and parsed body of each. */
async function onBoth(path: string, body: unknown) {
  const [real, simulated] = await Promise.all(
    both.map(async ([name, url]) => {
      const response = await postJson(`${url}${path}`, body);
      return { name, status: response.status, body: (await response.json()) as unknown };
    }),
  );
  return [real!, simulated!] as const;
}

describe('the simulator answers as the real Ollama does', () => {
  it('reports the same version', async () => {
    const [real, simulated] = await Promise.all(both.map(async ([, url]) => (await fetch(`${url}/api/version`)).json()));
    expect(real).toEqual({ version: '0.17.4' });
    expect(simulated).toEqual(real);
  });

  it('refuses an unknown model with the same 404 and body on the native API', async () => {
    for (const [path, body] of [
      ['/api/chat', { model: 'nope', messages: user('hi') }],
      ['/api/chat', { model: 'nope:latest', messages: user('hi'), stream: false }],
      ['/api/generate', { model: 'nope', prompt: 'hi' }],
      ['/api/show', { model: 'nope' }],
    ] as const) {
      const [real, simulated] = await onBoth(path, body);
      expect(real).toEqual({ name: 'ollama', status: 404, body: { error: `model '${body.model}' not found` } });
      expect({ ...simulated, name: 'ollama' }, `${path} ${JSON.stringify(body)}`).toEqual(real);
    }
  });

  it('refuses an unknown model on /v1 with a 404 in the same envelope', async () => {
    for (const stream of [true, false]) {
      const [real, simulated] = await onBoth('/v1/chat/completions', { model: 'nope', messages: user('hi'), stream });
      expect(real).toEqual({ name: 'ollama', status: 404, body: { error: { message: "model 'nope' not found", type: 'api_error', param: null, code: null } } });
      // The simulator's /v1 stands for the cloud too and words this as OpenAI does
      // (invalid_request_error, code model_not_found); status and envelope are Ollama's.
      expect(simulated.status).toBe(404);
      expect(keysOf((simulated.body as { error: unknown }).error)).toEqual(keysOf((real.body as { error: unknown }).error));
    }
  });

  it('streams NDJSON chunks and a final chunk with the same field names, in the same order', async () => {
    const [real, simulated] = await Promise.all(
      both.map(async ([, url]) => ndjson(await postJson(`${url}/api/chat`, { model: tinyStop.name, messages: user('Say something') }))),
    );
    const fieldsOf = (chunks: Record<string, unknown>[]) => ({
      chunks: [...new Set(chunks.slice(0, -1).map((chunk) => Object.keys(chunk).join()))],
      messages: [...new Set(chunks.map((chunk) => Object.keys(chunk.message as object).join()))],
      final: Object.keys(chunks.at(-1)!),
    });
    const realFields = fieldsOf(real!);
    expect(realFields.chunks).toEqual(['model,created_at,message,done']);
    // The simulator's prompt evaluation takes no time here, and a zero metric is left out, as Ollama does.
    expect(fieldsOf(simulated!)).toEqual({ ...realFields, final: realFields.final.filter((key) => key !== 'prompt_eval_duration') });
    for (const chunks of [real!, simulated!]) {
      expect(chunks.at(-1)).toMatchObject({ model: tinyStop.name, done: true, done_reason: 'stop', message: { role: 'assistant', content: '' } });
    }
  });

  it('continues a prefix it did not write where the prefix leaves off, not with a new answer', async () => {
    for (const [name, url] of both) {
      const chat = async (messages: Array<{ role: string; content: string }>) =>
        ((await (await postJson(`${url}/api/chat`, { model: tinyStop.name, messages, stream: false })).json()) as { message: { content: string } }).message.content;
      const answer = tokenize(await chat(user('Say something')));
      const continued = (prefix: string) => chat([...user('Say something'), { role: 'assistant', content: prefix }]);
      // Another writer's opening, then two words of the answer: the answer goes on after them.
      expect(await continued(`Well,${answer.slice(2, 4).join('')}`), name).toBe(answer.slice(4).join(''));
      // No word of the answer: the answer follows, from its start.
      expect(await continued('Zzyzx'), name).toBe(answer.join(''));
    }
  });

  it('answers 503 only to requests arriving while their model loads, beyond the queue; a loaded model’s requests all wait and complete', async () => {
    // A burst that arrives together (postTogether) while tiny is not loaded: one request is loaded
    // for, one queues, four are refused. Arriving one by one, the later ones could find the model
    // loading already registered (the real server counts a load from the runner's start) and wait.
    const burst = (url: string, count: number) =>
      postTogether(`${url}/api/chat`, Array.from({ length: count }, () => ({ model: tinyLoop.name, messages: user('hi'), stream: false, options: { num_predict: 7 } })));
    const loaded = async (url: string) => ((await (await fetch(`${url}/api/ps`)).json()) as { models: Array<{ name: string }> }).models.map((m) => m.name);
    for (const [name, url] of both) {
      expect(await loaded(url), `${name}: tiny must not be loaded before the burst`).not.toContain(tinyLoop.name);
      const first = await burst(url, 6);
      const refused = first.filter((r) => r.status === 503);
      expect(refused.length, name).toBe(4);
      expect(refused.every((r) => JSON.stringify(r.body) === JSON.stringify(busyBody)), name).toBe(true);
      expect(first.filter((r) => r.status === 200).length, name).toBe(2);
      // Loaded now: twelve at once on one slot all wait their turn.
      const second = await burst(url, 12);
      expect(second.map((r) => r.status), name).toEqual(Array(12).fill(200));
    }
  });
});

describe('the simulator reports residency and pulls as the real Ollama does', () => {
  const getJson = async (url: string) => (await (await fetch(url)).json()) as { models: Array<Record<string, unknown>> };

  it('lists present models (/api/tags) and loaded ones (/api/ps) with the same keys, in the same order', async () => {
    for (const [, url] of both) await postJson(`${url}/api/chat`, { model: tinyStop.name, messages: user('Say something'), stream: false });
    const [realTags, simTags, realPs, simPs] = await Promise.all([getJson(`${ollama.url}/api/tags`), getJson(`${sim.url}/api/tags`), getJson(`${ollama.url}/api/ps`), getJson(`${sim.url}/api/ps`)]);
    expect(Object.keys(simTags.models[0]!)).toEqual(Object.keys(realTags.models[0]!));
    expect(Object.keys(simTags.models[0]!.details as object)).toEqual(Object.keys(realTags.models[0]!.details as object));
    const loaded = (ps: { models: Array<Record<string, unknown>> }) => ps.models.find((m) => m.name === tinyStop.name)!;
    expect(Object.keys(loaded(simPs))).toEqual(Object.keys(loaded(realPs)));
    for (const ps of [realPs, simPs]) {
      expect(loaded(ps)).toMatchObject({ model: tinyStop.name, size: expect.any(Number), expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
      expect(Date.parse(loaded(ps).expires_at as string)).toBeGreaterThan(Date.now());
    }
  });

  // The real server cannot reach registry.ollama.ai here: its failure is what the two can share.
  it('fails a pull with the same shapes: an error line after "pulling manifest" when streaming, a 500 when not, a 400 for a bad name', async () => {
    for (const [name, url] of both) {
      const streamed = await postJson(`${url}/api/pull`, { model: 'qwen2.5-coder:7b-not-here' });
      expect(streamed.status, name).toBe(200);
      expect(streamed.headers.get('content-type'), name).toBe('application/x-ndjson');
      const lines = await ndjson(streamed);
      expect(lines.map((line) => Object.keys(line)), name).toEqual([['status'], ['error']]);
      expect(lines[0], name).toEqual({ status: 'pulling manifest' });
      expect(lines[1]!.error, name).toMatch(/^pull model manifest: /);
      const whole = await postJson(`${url}/api/pull`, { model: 'qwen2.5-coder:7b-not-here', stream: false });
      expect([whole.status, whole.headers.get('content-type')], name).toEqual([500, 'application/json']);
      expect(((await whole.json()) as { error: string }).error, name).toMatch(/^pull model manifest: /);
      const bad = await postJson(`${url}/api/pull`, { model: 'Bad Name!!' });
      expect([bad.status, await bad.json()], name).toEqual([400, { error: 'invalid model name' }]);
    }
  });
});
