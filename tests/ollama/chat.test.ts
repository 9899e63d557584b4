import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOllamaBackend } from '../../server/llm/ollama';
import type { LlmBackend } from '../../server/llm/types';
import { startOllama, type TestOllama } from '../support/ollama';
import { answerOf, tinyLoop, tinyStop } from './tiny-model';
import { collect, failure, keysOf, ndjson, postJson, runnersIdle, until, user } from './wire';

// One server for the file, one request at a time per model; the tests that drop a request run
// their own.
describe('a real Ollama serving the tiny models', () => {
  /** Hours of tokens even at thousands a second: a follow-up request is served only if generation stopped. */
  const forever = 100_000_000;
  let ollama: TestOllama;
  let backend: LlmBackend;

  beforeAll(async () => {
    const started = Date.now();
    ollama = await startOllama({ numParallel: 1 });
    console.log(`[ollama] server up with both models created in ${Date.now() - started} ms`);
    backend = createOllamaBackend({ id: 'real', url: ollama.url });
  });
  afterAll(() => ollama?.stop());

  it('streams NDJSON on /api/chat: message chunks, then a final chunk with the counts', async () => {
    const started = Date.now();
    const response = await postJson(`${ollama.url}/api/chat`, { model: tinyStop.name, messages: user('Say something') });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const chunks = await ndjson(response);
    const final = chunks.pop()!;
    console.log(`[ollama] first call (loads the model): ${Date.now() - started} ms, load_duration ${Number(final.load_duration) / 1e6} ms`);

    expect(chunks.map((c) => (c.message as { content: string }).content)).toEqual(tinyStop.pieces.map((p) => p.replaceAll('▁', ' ')));
    for (const chunk of chunks) {
      expect(keysOf(chunk)).toEqual(['created_at', 'done', 'message', 'model']);
      expect(chunk).toMatchObject({ model: tinyStop.name, done: false, message: { role: 'assistant' } });
      expect(keysOf(chunk.message)).toEqual(['content', 'role']);
      expect(new Date(chunk.created_at as string).toISOString()).toBeTruthy();
    }
    expect(keysOf(final)).toEqual([
      'created_at',
      'done',
      'done_reason',
      'eval_count',
      'eval_duration',
      'load_duration',
      'message',
      'model',
      'prompt_eval_count',
      'prompt_eval_duration',
      'total_duration',
    ]);
    // The EOS token counts as evaluated: six pieces, seven tokens.
    expect(final).toMatchObject({ model: tinyStop.name, done: true, done_reason: 'stop', message: { role: 'assistant', content: '' }, eval_count: 7 });
    for (const key of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration', 'prompt_eval_count']) {
      expect(Number.isInteger(final[key]) && (final[key] as number) > 0, key).toBe(true);
    }
  });

  it('answers /api/chat with stream:false in one object: the final chunk with the whole text', async () => {
    const response = await postJson(`${ollama.url}/api/chat`, { model: tinyStop.name, stream: false, messages: user('Hi') });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ done: true, done_reason: 'stop', message: { role: 'assistant', content: answerOf(tinyStop) }, eval_count: 7 });
  });

  it('streams the same fixed answer through the adapter whatever the prompt', async () => {
    for (const prompt of ['Write a TypeScript function that parses CSV rows', 'Hello', '¿Qué tal? 🚂']) {
      const { result, pieces } = await collect(backend, { model: tinyStop.name, messages: user(prompt) });
      expect(result.text).toBe(answerOf(tinyStop));
      expect(pieces.join('')).toBe(result.text);
      expect(result).toMatchObject({ completionTokens: 7, model: tinyStop.name });
      expect(result.promptTokens).toBeGreaterThan(0);
    }
  });

  it('continues a cut answer exactly where it stopped (resumeFrom), at every token boundary', async () => {
    for (let cut = 1; cut < tinyStop.pieces.length; cut++) {
      const resumeFrom = answerOf(tinyStop, cut);
      const { result, pieces } = await collect(backend, { model: tinyStop.name, messages: user('Say something'), resumeFrom });
      expect(result.text).toBe(answerOf(tinyStop));
      expect(resumeFrom + pieces.join('')).toBe(answerOf(tinyStop));
      expect(result.completionTokens).toBe(tinyStop.pieces.length - cut + 1);
    }
  });

  it('caps the model that never stops at num_predict (done_reason "length")', async () => {
    const { result } = await collect(backend, { model: tinyLoop.name, messages: user('Go'), maxTokens: 10 });
    expect(result.text).toBe(answerOf(tinyLoop, 10));
    expect(result.completionTokens).toBe(10);

    const response = await postJson(`${ollama.url}/api/chat`, { model: tinyLoop.name, messages: user('Go'), options: { num_predict: 17 } });
    const final = (await ndjson(response)).at(-1)!;
    expect(final).toMatchObject({ done: true, done_reason: 'length', eval_count: 17 });
  });

  it('lists the loaded model on /api/ps with its size and expiry; keep_alive 0 unloads it', async () => {
    const unloadStop = async () => {
      const unload = await postJson(`${ollama.url}/api/generate`, { model: tinyStop.name, keep_alive: 0 });
      expect(await unload.json()).toMatchObject({ model: tinyStop.name, response: '', done: true, done_reason: 'unload' });
      await until(
        () => backend.listLoaded(),
        (loaded) => !loaded.includes(tinyStop.name),
      );
    };
    // Loaded afresh by this one call: the earlier tests' requests (default keep_alive, 5 minutes)
    // can still be settling in Ollama's scheduler and would set the expiry after it.
    await unloadStop();
    await collect(backend, { model: tinyStop.name, messages: user('Hi'), keepAlive: '10m' });
    const ps = (await (await fetch(`${ollama.url}/api/ps`)).json()) as { models: Record<string, unknown>[] };
    const entry = ps.models.find((m) => m.name === tinyStop.name);
    expect(entry).toBeDefined();
    expect(keysOf(entry)).toEqual(['context_length', 'details', 'digest', 'expires_at', 'model', 'name', 'size', 'size_vram']);
    expect(entry).toMatchObject({ model: tinyStop.name, size_vram: 0, context_length: 4096 });
    expect(entry!.size).toBeGreaterThan(0);
    expect(entry!.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(entry!.details).toEqual({
      parent_model: '',
      format: 'gguf',
      family: 'llama',
      families: ['llama'],
      parameter_size: '118K',
      quantization_level: 'F16',
    });
    // keep_alive 10m from the end of the call: well after now, at most ten minutes ahead.
    const expiresIn = Date.parse(entry!.expires_at as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(5 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(10 * 60_000);
    expect(await backend.listLoaded()).toContain(tinyStop.name);
    await unloadStop();
  });

  it('lists both models on /api/tags; the adapter reads their context window from /api/show', async () => {
    const tags = (await (await fetch(`${ollama.url}/api/tags`)).json()) as { models: Record<string, unknown>[] };
    expect(tags.models.map((m) => m.name).sort()).toEqual([tinyLoop.name, tinyStop.name].sort());
    for (const model of tags.models) {
      expect(keysOf(model)).toEqual(['details', 'digest', 'model', 'modified_at', 'name', 'size']);
      expect(model.model).toBe(model.name);
      expect(model.size).toBeGreaterThan(200_000); // the GGUF and the template
    }
    const v1 = (await (await fetch(`${ollama.url}/v1/models`)).json()) as { object: string; data: { id: string; object: string; owned_by: string }[] };
    expect(v1.object).toBe('list');
    expect(v1.data.map((m) => m.id).sort()).toEqual([tinyLoop.name, tinyStop.name].sort());
    expect(v1.data[0]).toMatchObject({ object: 'model', owned_by: 'library' });

    expect((await backend.listModels()).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: tinyStop.name, contextWindow: 4096 },
      { name: tinyLoop.name, contextWindow: 4096 },
    ]);
  });

  // Each on a server of its own: should Ollama's dropped-request race strike (wire.ts,
  // runnersIdle), it leaves the model unusable on that server, and the other tests need it.
  it('stops generating when the adapter call is cancelled', async () => {
    const own = await startOllama({ numParallel: 1, models: [tinyLoop] });
    try {
      const controller = new AbortController();
      const pieces: string[] = [];
      const call = createOllamaBackend({ id: 'own', url: own.url }).streamChat(
        { model: tinyLoop.name, messages: user('Go on forever'), maxTokens: forever, signal: controller.signal },
        (text) => {
          pieces.push(text);
          if (pieces.length === 3) controller.abort();
        },
      );
      const error = await failure(call);
      expect(error.code).toBe('aborted');
      // Chunks already received when the signal fired may still be delivered.
      expect(pieces.join('').startsWith(answerOf(tinyLoop, 3))).toBe(true);
      await until(() => runnersIdle(own), (idle) => idle);
    } finally {
      await own.stop();
    }
  });

  it('stops generating when a raw stream is dropped after its first chunk', async () => {
    const own = await startOllama({ numParallel: 1, models: [tinyLoop] });
    try {
      const controller = new AbortController();
      const response = await postJson(
        `${own.url}/api/chat`,
        { model: tinyLoop.name, messages: user('Go on forever'), options: { num_predict: forever } },
        { signal: controller.signal },
      );
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('"content":"Tick"');
      expect(await runnersIdle(own)).toBe(false); // generating, as the idle check below must tell apart
      controller.abort();
      await until(() => runnersIdle(own), (idle) => idle);
    } finally {
      await own.stop();
    }
  });

  it('answers 404 for an unknown model, natively and on /v1; the adapter says unknown_model', async () => {
    for (const stream of [true, false]) {
      const response = await postJson(`${ollama.url}/api/chat`, { model: 'nope:latest', stream, messages: user('Hi') });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await response.text()).toBe(`{"error":"model 'nope:latest' not found"}`);
    }
    // The name is quoted as sent, without the implied ":latest".
    const bare = await postJson(`${ollama.url}/api/generate`, { model: 'nope', prompt: 'Hi' });
    expect(bare.status).toBe(404);
    expect(await bare.json()).toEqual({ error: "model 'nope' not found" });

    const v1 = await postJson(`${ollama.url}/v1/chat/completions`, { model: 'nope', stream: true, messages: user('Hi') });
    expect(v1.status).toBe(404);
    expect(v1.headers.get('content-type')).toBe('application/json');
    expect(await v1.text()).toBe(`{"error":{"message":"model 'nope' not found","type":"api_error","param":null,"code":null}}\n`);

    // Refused before sending: the adapter checks its cached model list.
    const listed = await failure(backend.streamChat({ model: 'nope:latest', messages: user('Hi') }, () => {}));
    expect(listed).toMatchObject({ code: 'unknown_model', retryable: false, status: 404 });

    // The server's own 404: a model deleted after the adapter listed it.
    const copy = await postJson(`${ollama.url}/api/copy`, { source: tinyStop.name, destination: 'gone:latest' });
    expect(copy.status).toBe(200);
    const fresh = createOllamaBackend({ id: 'fresh', url: ollama.url });
    expect((await fresh.listModels()).map((m) => m.name)).toContain('gone:latest');
    const removed = await fetch(`${ollama.url}/api/delete`, { method: 'DELETE', body: JSON.stringify({ model: 'gone:latest' }) });
    expect(removed.status).toBe(200);
    const fromServer = await failure(fresh.streamChat({ model: 'gone:latest', messages: user('Hi') }, () => {}));
    expect(fromServer).toMatchObject({ code: 'unknown_model', retryable: false, status: 404 });
    expect(fromServer.message).toContain(tinyStop.name); // names what the server does have
  });
});
