import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BackendError, classifyError } from './errors';
import { closedUrl, codePrompt, startSimulator } from '../../tests/support/llm';

const model = 'qwen2.5-coder:7b';

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('classifyError', () => {
  it('maps the real clients’ HTTP errors by status and body', async () => {
    const sim = await startSimulator({ models: [{ name: model, contextWindow: 20 }], slots: 1, maxQueue: 0 });
    const ollama = new Ollama({ host: sim.url });
    const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
    const long = [{ role: 'user' as const, content: 'w'.repeat(200) }];
    expect(classifyError(await thrown(ollama.chat({ model: 'nope', messages: codePrompt })))).toMatchObject({ code: 'unknown_model', retryable: false, status: 404 });
    expect(classifyError(await thrown(openai.chat.completions.create({ model: 'nope', messages: codePrompt })))).toMatchObject({ code: 'unknown_model', status: 404 });
    expect(classifyError(await thrown(ollama.chat({ model, messages: long })))).toMatchObject({ code: 'context_overflow', retryable: false });
    expect(classifyError(await thrown(openai.chat.completions.create({ model, messages: long })))).toMatchObject({ code: 'context_overflow', retryable: false });
    expect(classifyError(await thrown(openai.chat.completions.create({ model, messages: [] })))).toMatchObject({ code: 'bad_request', retryable: false, status: 400 });
    sim.setFaults({ errorRate: 1 });
    expect(classifyError(await thrown(ollama.chat({ model, messages: codePrompt })))).toMatchObject({ code: 'server_error', retryable: true });
  });

  it('maps statuses: 401/403 final, 408 timeout, 429 and 503 busy, 502/504 unavailable', () => {
    const withStatus = (status: number) => Object.assign(new Error(`status ${status}`), { status });
    expect(classifyError(withStatus(401))).toMatchObject({ code: 'bad_request', retryable: false });
    expect(classifyError(withStatus(403))).toMatchObject({ code: 'bad_request', retryable: false });
    expect(classifyError(withStatus(404))).toMatchObject({ code: 'bad_request', retryable: false });
    expect(classifyError(withStatus(408))).toMatchObject({ code: 'timeout', retryable: true });
    expect(classifyError(withStatus(429))).toMatchObject({ code: 'busy', retryable: true });
    expect(classifyError(withStatus(503))).toMatchObject({ code: 'busy', retryable: true });
    expect(classifyError(withStatus(502))).toMatchObject({ code: 'unavailable', retryable: true });
    expect(classifyError(withStatus(504))).toMatchObject({ code: 'unavailable', retryable: true });
  });

  it('maps connection failures, aborts and timeouts from fetch', async () => {
    const refused = await thrown(fetch(await closedUrl()));
    expect(classifyError(refused)).toMatchObject({ code: 'unavailable', retryable: true, message: expect.stringContaining('ECONNREFUSED') });
    const sim = await startSimulator();
    sim.setFaults({ hang: true });
    expect(classifyError(await thrown(fetch(`${sim.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model, messages: codePrompt }), signal: AbortSignal.timeout(30) })))).toMatchObject({
      code: 'timeout',
      retryable: true,
    });
    const controller = new AbortController();
    controller.abort();
    expect(classifyError(await thrown(fetch(sim.url, { signal: controller.signal })))).toMatchObject({ code: 'aborted', retryable: false });
  });

  it('treats a connection dropped mid-answer as a cut stream, and keeps BackendErrors as they are', async () => {
    const reset = Object.assign(new TypeError('terminated'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    expect(classifyError(reset, 'stream')).toMatchObject({ code: 'stream_cut', retryable: true });
    expect(classifyError(reset, 'request')).toMatchObject({ code: 'unavailable', retryable: true });
    const own = new BackendError('busy', 'full');
    expect(classifyError(own)).toBe(own);
  });
});
