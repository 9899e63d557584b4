import { describe, expect, it } from 'vitest';
import { BackendError } from './errors';
import { createOpenAIBackend } from './openai';
import { closedUrl, codePrompt, startSimulator, waitFor } from '../../tests/support/llm';
import type { LlmBackend } from './types';

const model = 'gpt-4o-mini';
const cloudModels = [{ name: model, contextWindow: 128_000 }, { name: 'mystery-model', contextWindow: 8_000 }];

async function failure(promise: Promise<unknown>): Promise<BackendError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackendError);
  return err as BackendError;
}

async function cloud(options: Parameters<typeof startSimulator>[0] = {}): Promise<{ backend: LlmBackend; sim: Awaited<ReturnType<typeof startSimulator>> }> {
  const sim = await startSimulator({ models: cloudModels, ...options });
  return { sim, backend: createOpenAIBackend({ id: 'cloud', baseURL: `${sim.url}/v1`, apiKey: 'sk-test' }) };
}

describe('OpenAI backend', () => {
  it('streams an answer with its usage', async () => {
    const { backend } = await cloud({ outputTokens: 30 });
    const pieces: string[] = [];
    const result = await backend.streamChat({ model, messages: codePrompt }, (t) => pieces.push(t));
    expect(pieces).toHaveLength(30);
    expect(result).toMatchObject({ text: pieces.join(''), completionTokens: 30, model });
    expect(result.timeToFirstTokenMs).toBeGreaterThan(0);
  });

  it('lists models with reported context windows; every model counts as loaded; health', async () => {
    const { backend } = await cloud();
    expect(await backend.listModels()).toEqual(cloudModels);
    expect(await backend.listLoaded()).toEqual([model, 'mystery-model']);
    expect(await backend.health()).toMatchObject({ ok: true, loadedModels: [model, 'mystery-model'] });
  });

  // Timing on a shared CPU: a retry absorbs a starved event loop; a missed abort fails every attempt.
  it('cancels on abort: the simulator sees the connection close within 200 ms', { retry: 2 }, async () => {
    const { backend, sim } = await cloud({ tokensPerSecond: 20 });
    const controller = new AbortController();
    let abortedAt = 0;
    const err = await failure(
      backend.streamChat({ model, messages: codePrompt, signal: controller.signal }, () => {
        if (abortedAt) return;
        abortedAt = Date.now();
        controller.abort();
      }),
    );
    expect(err).toMatchObject({ code: 'aborted', retryable: false });
    const [seen] = await waitFor(() => sim.stats().disconnects, (d) => d.length === 1);
    expect(seen!.at - abortedAt).toBeLessThan(200);
    expect(sim.stats().active).toBe(0);
  });

  it('resumes cut streams by instruction into exactly the uncut text', async () => {
    const { backend, sim } = await cloud({ outputTokens: 50, seed: 5 });
    const uncut = (await backend.streamChat({ model, messages: codePrompt }, () => {})).text;
    for (const [cutAfterTokens, cutMode] of [[3, 'end'], [26, 'destroy'], [50, 'end']] as const) {
      sim.setFaults({ cutAfterTokens, cutMode });
      let partial = '';
      const err = await failure(backend.streamChat({ model, messages: codePrompt }, (t) => (partial += t)));
      expect(err).toMatchObject({ code: 'stream_cut', retryable: true });
      sim.setFaults({ cutAfterTokens: null });
      const resumed = await backend.streamChat({ model, messages: codePrompt, resumeFrom: partial }, () => {});
      expect(resumed.text).toBe(uncut);
    }
  });

  it('says when max_tokens cut the answer; matches OpenAI model ids exactly', async () => {
    const sim = await startSimulator({ server: 'openai', models: [{ name: model, contextWindow: 128_000 }], outputTokens: 20 });
    const backend = createOpenAIBackend({ id: 'cloud', baseURL: `${sim.url}/v1`, apiKey: 'sk-test' });
    expect(await backend.streamChat({ model, messages: codePrompt }, () => {})).toMatchObject({ completionTokens: 20, truncated: false });
    expect(await backend.streamChat({ model, messages: codePrompt, maxTokens: 6 }, () => {})).toMatchObject({ completionTokens: 6, truncated: true });
    expect(await failure(backend.streamChat({ model: 'GPT-4o-mini', messages: codePrompt }, () => {}))).toMatchObject({ code: 'unknown_model' });
    expect(sim.stats().requests).toBe(2);
  });

  it('refuses unknown models and oversized prompts before calling', async () => {
    const { backend, sim } = await cloud();
    const unknown = await failure(backend.streamChat({ model: 'gpt-9', messages: codePrompt }, () => {}));
    expect(unknown).toMatchObject({ code: 'unknown_model', retryable: false });
    expect(unknown.message).toContain('gpt-4o-mini, mystery-model');
    const overflow = await failure(backend.streamChat({ model: 'mystery-model', messages: [{ role: 'user', content: 'q'.repeat(40_000) }] }, () => {}));
    expect(overflow).toMatchObject({ code: 'context_overflow', retryable: false });
    expect(overflow.message).toMatch(/10000 tokens.*8000-token/);
    expect(sim.stats().requests).toBe(0);
  });

  it('fails a stream that falls silent once its text began as a retryable timeout, and closes it', async () => {
    const sim = await startSimulator({ models: cloudModels, tokensPerSecond: 1000 });
    const backend = createOpenAIBackend({ id: 'cloud', baseURL: `${sim.url}/v1`, apiKey: 'sk-test', streamIdleMs: 300 });
    sim.setFaults({ stallAfterTokens: 3 });
    const pieces: string[] = [];
    const error = await failure(backend.streamChat({ model, messages: codePrompt }, (piece) => pieces.push(piece)));
    expect(error).toMatchObject({ code: 'timeout', retryable: true });
    expect(pieces).toHaveLength(3);
    await waitFor(() => sim.stats(), (stats) => stats.active === 0 && stats.stalls === 1);
  });

  it('does not retry: one 500 is one request, reported retryable', async () => {
    const { backend, sim } = await cloud();
    sim.setFaults({ errorRate: 1 });
    expect(await failure(backend.streamChat({ model, messages: codePrompt }, () => {}))).toMatchObject({ code: 'server_error', retryable: true, status: 500 });
    expect(sim.stats().requests).toBe(1);
    const down = createOpenAIBackend({ id: 'down', baseURL: `${await closedUrl()}/v1`, apiKey: 'sk-test' });
    expect(await failure(down.streamChat({ model, messages: codePrompt }, () => {}))).toMatchObject({ code: 'unavailable', retryable: true });
    expect((await down.health()).ok).toBe(false);
  });

  it('works with endpoints that have no /models: calls go unchecked, health stays ok', async () => {
    const sim = await startSimulator({ models: cloudModels });
    const withoutModels: typeof fetch = (input, init) =>
      String(input instanceof Request ? input.url : input).endsWith('/v1/models') ? Promise.resolve(new Response('404 page not found', { status: 404 })) : fetch(input, init);
    const backend = createOpenAIBackend({ id: 'gateway', baseURL: `${sim.url}/v1`, apiKey: 'sk-test', fetch: withoutModels });
    expect(await backend.listModels()).toEqual([]);
    expect(await backend.health()).toMatchObject({ ok: true, loadedModels: [] });
    expect((await backend.streamChat({ model, messages: codePrompt, maxTokens: 5 }, () => {})).completionTokens).toBe(5);
    expect(await failure(backend.streamChat({ model: 'gpt-9', messages: codePrompt }, () => {}))).toMatchObject({ code: 'unknown_model', status: 404 });
  });
});
