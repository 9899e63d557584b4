import { describe, expect, it } from 'vitest';
import { BackendError } from './errors';
import { createOllamaBackend } from './ollama';
import { closedUrl, codePrompt, startSimulator, waitFor } from '../../tests/support/llm';
import type { ChatRequest, LlmBackend } from './types';
import { startTcpProxy } from '../../simulator/tcp-proxy';

const model = 'qwen2.5-coder:7b';

async function collect(backend: LlmBackend, req: ChatRequest) {
  const pieces: string[] = [];
  const result = await backend.streamChat(req, (text) => pieces.push(text));
  return { result, pieces };
}

async function failure(promise: Promise<unknown>): Promise<BackendError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BackendError);
  return err as BackendError;
}

describe('Ollama backend', () => {
  it('streams an answer and reports tokens, timings and model', async () => {
    const sim = await startSimulator({ outputTokens: 25, timeToFirstTokenMs: 30 });
    const backend = createOllamaBackend({ id: 'local', url: sim.url });
    const { result, pieces } = await collect(backend, { model, messages: codePrompt });
    expect(pieces).toHaveLength(25);
    expect(result.text).toBe(pieces.join(''));
    expect(result).toMatchObject({ completionTokens: 25, model });
    expect(result.promptTokens).toBeGreaterThan(0);
    expect(result.timeToFirstTokenMs).toBeGreaterThanOrEqual(29);
    expect(result.durationMs).toBeGreaterThanOrEqual(result.timeToFirstTokenMs);
  });

  it('lists models with context windows, loaded models and health', async () => {
    const sim = await startSimulator();
    const backend = createOllamaBackend({ id: 'local', url: sim.url, keepAlive: '1m' });
    expect(await backend.listModels()).toEqual([
      { name: 'qwen2.5-coder:7b', contextWindow: 32768 },
      { name: 'llama3.1:8b', contextWindow: 131072 },
      { name: 'qwen2.5-coder:32b', contextWindow: 32768 },
    ]);
    expect(await backend.listLoaded()).toEqual([]);
    await backend.streamChat({ model: 'llama3.1:8b', messages: codePrompt, maxTokens: 3 }, () => {});
    const health = await backend.health();
    expect(health).toMatchObject({ ok: true, loadedModels: ['llama3.1:8b'] });
    expect(health.latencyMs).toBeGreaterThan(0);
  });

  // Timing on a shared CPU: a retry absorbs a starved event loop; a missed abort fails every attempt.
  it('cancels on abort: the simulator sees the connection close within 200 ms and frees the slot', { retry: 2 }, async () => {
    const sim = await startSimulator({ tokensPerSecond: 20, slots: 1 });
    const backend = createOllamaBackend({ id: 'local', url: sim.url });
    const controller = new AbortController();
    let abortedAt = 0;
    const call = backend.streamChat({ model, messages: codePrompt, signal: controller.signal }, () => {
      if (abortedAt) return;
      abortedAt = Date.now();
      controller.abort();
    });
    const err = await failure(call);
    expect(err).toMatchObject({ code: 'aborted', retryable: false });
    const [seen] = await waitFor(() => sim.stats().disconnects, (d) => d.length === 1);
    expect(seen!.at - abortedAt).toBeLessThan(200);
    expect(seen!.tokensSent).toBeLessThan(5);
    expect(sim.stats()).toMatchObject({ active: 0, closedEarly: 1 });
  });

  it('cancels while queued behind a busy slot', async () => {
    const sim = await startSimulator({ tokensPerSecond: 20, slots: 1 });
    const backend = createOllamaBackend({ id: 'local', url: sim.url });
    const first = new AbortController();
    const running = backend.streamChat({ model, messages: codePrompt, signal: first.signal }, () => {});
    const second = new AbortController();
    const queued = backend.streamChat({ model, messages: codePrompt, signal: second.signal }, () => {});
    try {
      await waitFor(() => sim.stats().queued, (n) => n === 1);
      second.abort();
      expect(await failure(queued)).toMatchObject({ code: 'aborted' });
      await waitFor(() => sim.stats(), (s) => s.queued === 0 && s.closedEarly === 1);
    } finally {
      first.abort();
      await running.catch(() => {});
    }
  });

  it('resumes cut streams into exactly the uncut text, wherever the cut falls', async () => {
    const sim = await startSimulator({ outputTokens: 60, seed: 11 });
    const backend = createOllamaBackend({ id: 'local', url: sim.url });
    const uncut = (await backend.streamChat({ model, messages: codePrompt }, () => {})).text;
    for (const [cutAfterTokens, cutMode] of [[1, 'destroy'], [17, 'end'], [33, 'destroy'], [59, 'end'], [60, 'destroy']] as const) {
      sim.setFaults({ cutAfterTokens, cutMode });
      let partial = '';
      const err = await failure(backend.streamChat({ model, messages: codePrompt }, (t) => (partial += t)));
      expect(err).toMatchObject({ code: 'stream_cut', retryable: true });
      sim.setFaults({ cutAfterTokens: null });
      let continuation = '';
      const resumed = await backend.streamChat({ model, messages: codePrompt, resumeFrom: partial }, (t) => (continuation += t));
      expect(resumed.text).toBe(uncut);
      expect(partial + continuation).toBe(uncut);
    }
  });

  it('refuses an unknown model before calling, naming the available ones', async () => {
    const sim = await startSimulator();
    const backend = createOllamaBackend({ id: 'local', url: sim.url });
    const err = await failure(backend.streamChat({ model: 'mistral:7b', messages: codePrompt }, () => {}));
    expect(err).toMatchObject({ code: 'unknown_model', retryable: false });
    expect(err.message).toContain('"mistral:7b"');
    expect(err.message).toContain('qwen2.5-coder:7b, llama3.1:8b, qwen2.5-coder:32b');
    expect(sim.stats().requests).toBe(0);
  });

  it('calls a model by any name Ollama gives it, and says when maxTokens cut the answer', async () => {
    const sim = await startSimulator({ models: [{ name: 'tiny-stop:latest', contextWindow: 2048 }], outputTokens: 20 });
    const backend = createOllamaBackend({ id: 'local', url: sim.url });
    const whole = await backend.streamChat({ model: 'Tiny-Stop', messages: codePrompt }, () => {});
    expect(whole).toMatchObject({ completionTokens: 20, truncated: false, model: 'Tiny-Stop' });
    const cut = await backend.streamChat({ model: 'tiny-stop', messages: codePrompt, maxTokens: 8 }, () => {});
    expect(cut).toMatchObject({ completionTokens: 8, truncated: true });
    expect(sim.requests().map((r) => r.maxTokens)).toEqual([null, 8]);
  });

  it('refuses a prompt beyond the context window before calling, giving both sizes', async () => {
    const sim = await startSimulator({ models: [{ name: model, contextWindow: 1000 }] });
    const backend = createOllamaBackend({ id: 'local', url: sim.url });
    const err = await failure(backend.streamChat({ model, messages: [{ role: 'user', content: 'z'.repeat(4400) }] }, () => {}));
    expect(err).toMatchObject({ code: 'context_overflow', retryable: false });
    expect(err.message).toMatch(/1100 tokens.*1000-token context window/);
    expect(sim.stats().requests).toBe(0);
  });

  it('fails a stream that falls silent mid-answer as a retryable timeout, and closes it', async () => {
    const sim = await startSimulator({ tokensPerSecond: 1000 });
    const backend = createOllamaBackend({ id: 'local', url: sim.url, streamIdleMs: 300 });
    for (const stallAfterTokens of [0, 3]) {
      sim.setFaults({ stallAfterTokens });
      const pieces: string[] = [];
      const error = await failure(backend.streamChat({ model, messages: codePrompt }, (piece) => pieces.push(piece)));
      expect(error).toMatchObject({ code: 'timeout', retryable: true, message: expect.stringContaining('sent nothing for 0.3 s') });
      expect(pieces).toHaveLength(stallAfterTokens);
      await waitFor(() => sim.stats().active, (n) => n === 0);
    }
    expect(sim.stats()).toMatchObject({ stalls: 2, closedEarly: 2 });
  });

  it('gives up a request whose server stops answering before the answer begins, but waits out a slow model load', async () => {
    const sim = await startSimulator({ tokensPerSecond: 1000, modelLoadMs: 1_500 });
    // A proxy per case: connections that lived through a partition are reset when it heals.
    const proxies = await Promise.all([1, 2].map(() => startTcpProxy(new URL(sim.url))));
    try {
      const [before, during] = proxies.map((proxy) => createOllamaBackend({ id: 'local', url: proxy.url, livenessProbeMs: 300, probeTimeoutMs: 1_000, streamIdleMs: 500 }));
      // The load is silent for 1.5 s, but the server answers its probes. (Its timer may fire a
      // fraction of a millisecond early.)
      expect((await before!.streamChat({ model, messages: codePrompt }, () => {})).loadMs).toBeGreaterThanOrEqual(1_490);
      proxies[0]!.partition();
      expect(await failure(before!.streamChat({ model, messages: codePrompt }, () => {}))).toMatchObject({ code: 'unavailable', retryable: true });
      // Cut off mid-answer: the stream falls silent. Six seconds of answer, so that on a busy machine
      // the cut still lands long before the simulator has sent it all through the proxy.
      sim.configure({ tokensPerSecond: 20 });
      const pieces: string[] = [];
      const cut = during!.streamChat({ model, messages: codePrompt }, (piece) => {
        pieces.push(piece);
        if (pieces.length === 3) proxies[1]!.partition();
      });
      expect(await failure(cut)).toMatchObject({ code: 'timeout', retryable: true });
      expect(pieces.length).toBeLessThan(120);
    } finally {
      await Promise.all(proxies.map((proxy) => proxy.close()));
    }
  });

  it('classifies busy, server errors, hangs and unreachable instances as retryable', async () => {
    // Ollama refuses only while a model loads: the second request arrives during the first's long load.
    const sim = await startSimulator({ slots: 1, maxQueue: 0, tokensPerSecond: 20, modelLoadMs: 60_000 });
    const backend = createOllamaBackend({ id: 'local', url: sim.url });
    const controller = new AbortController();
    const running = backend.streamChat({ model, messages: codePrompt, signal: controller.signal }, () => {});
    try {
      await waitFor(() => sim.stats().active, (n) => n === 1);
      expect(await failure(backend.streamChat({ model, messages: codePrompt }, () => {}))).toMatchObject({ code: 'busy', retryable: true, status: 503 });
    } finally {
      controller.abort();
      await running.catch(() => {});
    }
    sim.setFaults({ errorRate: 1 });
    expect(await failure(backend.streamChat({ model, messages: codePrompt }, () => {}))).toMatchObject({ code: 'server_error', retryable: true, status: 500 });
    sim.setFaults({ errorRate: 0, refuseConnections: true });
    expect(await failure(backend.streamChat({ model, messages: codePrompt }, () => {}))).toMatchObject({ code: 'unavailable', retryable: true });
    const down = createOllamaBackend({ id: 'down', url: await closedUrl() });
    expect(await failure(down.streamChat({ model, messages: codePrompt }, () => {}))).toMatchObject({ code: 'unavailable', retryable: true });
    expect(await down.health()).toMatchObject({ ok: false, loadedModels: [], error: expect.stringContaining('ECONNREFUSED') });
  });
});
