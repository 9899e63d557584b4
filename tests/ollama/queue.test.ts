import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOllamaBackend } from '../../server/llm/ollama';
import type { LlmBackend } from '../../server/llm/types';
import { startOllama, type TestOllama } from '../support/ollama';
import { answerOf, tinyStop } from './tiny-model';
import { busyBody, collect, ndjson, postJson, until, user } from './wire';

/**
 * Ollama's queue (server/sched.go): a request for a model that is not loaded goes through a
 * channel of OLLAMA_MAX_QUEUE places that the scheduler drains one at a time, blocking while it
 * loads a model; a full channel is a 503. A request for a loaded model skips that channel and
 * waits on the runner's slots without bound.
 */
describe('Ollama with OLLAMA_NUM_PARALLEL=1 and OLLAMA_MAX_QUEUE=1', () => {
  const burst = 6;
  let ollama: TestOllama;
  let backend: LlmBackend;

  beforeAll(async () => {
    ollama = await startOllama({ numParallel: 1, maxQueue: 1, models: [tinyStop] });
    backend = createOllamaBackend({ id: 'real', url: ollama.url });
  });
  afterAll(() => ollama?.stop());

  const unloaded = async () => {
    await postJson(`${ollama.url}/api/generate`, { model: tinyStop.name, keep_alive: 0 });
    await until(
      () => backend.listLoaded(),
      (loaded) => loaded.length === 0,
    );
  };

  it('answers 503 to the part of a burst that arrives while the model loads and does not fit the queue', async () => {
    await unloaded();
    const started = Date.now();
    const responses = await Promise.all(
      Array.from({ length: burst }, () => postJson(`${ollama.url}/api/chat`, { model: tinyStop.name, messages: user('Hi') })),
    );
    const busy = responses.filter((r) => r.status === 503);
    const served = responses.filter((r) => r.status === 200);
    expect(busy.length + served.length).toBe(burst);
    // One request is being loaded for and one waits in the queue; a slow load only adds 503s.
    expect(busy.length).toBeGreaterThanOrEqual(1);
    expect(served.length).toBeGreaterThanOrEqual(1);
    for (const response of busy) {
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await response.text()).toBe(JSON.stringify(busyBody));
    }
    for (const response of served) {
      const chunks = await ndjson(response);
      expect(chunks.map((c) => (c.message as { content: string }).content).join('')).toBe(answerOf(tinyStop));
    }
    console.log(`[ollama] burst of ${burst} during a load: ${served.length} served, ${busy.length} × 503, in ${Date.now() - started} ms`);
  });

  it('answers 503 on /v1 in OpenAI error shape; the adapter reports busy, retryable', async () => {
    await unloaded();
    const v1 = await Promise.all(
      Array.from({ length: burst }, () => postJson(`${ollama.url}/v1/chat/completions`, { model: tinyStop.name, messages: user('Hi') })),
    );
    const v1Busy = v1.filter((r) => r.status === 503);
    expect(v1Busy.length).toBeGreaterThanOrEqual(1);
    for (const response of v1Busy) {
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({ error: { message: busyBody.error, type: 'api_error', param: null, code: null } });
    }
    await Promise.all(v1.filter((r) => r.status !== 503).map((r) => r.text()));

    await unloaded();
    await backend.listModels(); // so that the burst's model checks do not spread the requests out
    const results = await Promise.allSettled(
      Array.from({ length: burst }, () => collect(backend, { model: tinyStop.name, messages: user('Hi') })),
    );
    const rejected = results.filter((r) => r.status === 'rejected').map((r) => r.reason as unknown);
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    for (const reason of rejected) expect(reason).toMatchObject({ code: 'busy', retryable: true, status: 503 });
    for (const r of results) if (r.status === 'fulfilled') expect(r.value.result.text).toBe(answerOf(tinyStop));
  });

  it('lets every request for a loaded model wait for the one slot: no 503 however many', async () => {
    await collect(backend, { model: tinyStop.name, messages: user('Hi'), keepAlive: '10m' });
    expect(await backend.listLoaded()).toEqual([tinyStop.name]);
    const many = burst;
    const [raw, adapter] = await Promise.all([
      Promise.all(
        Array.from({ length: many }, () =>
          postJson(`${ollama.url}/api/chat`, { model: tinyStop.name, stream: false, messages: user('Hi') }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as { message?: { content: string } },
          })),
        ),
      ),
      Promise.all(Array.from({ length: many }, () => collect(backend, { model: tinyStop.name, messages: user('Hi') }))),
    ]);
    for (const { status, body } of raw) {
      expect(status).toBe(200);
      expect(body.message?.content).toBe(answerOf(tinyStop));
    }
    for (const { result } of adapter) expect(result.text).toBe(answerOf(tinyStop));
  });
});
