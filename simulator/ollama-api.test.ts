import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import { codePrompt, startSimulator } from '../tests/support/llm';
import { tokenize } from './tokens';

const model = 'qwen2.5-coder:7b';
const chat = (url: string, signal: AbortSignal) => fetch(`${url}/api/chat`, { method: 'POST', body: JSON.stringify({ model, messages: codePrompt }), signal });

async function ndjson(url: string, body: unknown): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  expect(res.headers.get('content-type')).toBe('application/x-ndjson');
  const text = await res.text();
  expect(text.endsWith('\n')).toBe(true);
  return text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('simulator: Ollama API', () => {
  it('streams /api/chat as Ollama frames it, one JSON object per token, durations in ns', async () => {
    const sim = await startSimulator({ outputTokens: 30 });
    const lines = await ndjson(`${sim.url}/api/chat`, { model, messages: codePrompt });
    expect(lines).toHaveLength(31);
    for (const line of lines.slice(0, -1)) {
      expect(Object.keys(line)).toEqual(['model', 'created_at', 'message', 'done']);
      expect(line).toMatchObject({ model, message: { role: 'assistant' }, done: false });
      expect(new Date(line.created_at as string).toISOString()).toBe(line.created_at);
    }
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ model, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', eval_count: 30 });
    for (const key of ['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_duration']) {
      expect(Number.isInteger(last[key])).toBe(true);
    }
    expect(last.total_duration as number).toBeGreaterThan(1e6);
  });

  it('gives the same deterministic answer streamed, not streamed and from another instance', async () => {
    const [a, b] = [await startSimulator({ seed: 7 }), await startSimulator({ seed: 7 })];
    const streamed = await new Ollama({ host: a.url }).chat({ model, messages: codePrompt, stream: true });
    let text = '';
    for await (const part of streamed) text += part.message.content;
    const whole = await new Ollama({ host: b.url }).chat({ model, messages: codePrompt, stream: false });
    expect(whole.message.content).toBe(text);
    expect(whole.done).toBe(true);
    expect(text).toMatch(/^Here is a TypeScript implementation of `parsesCsvRows/);
    expect(text).toContain('```ts\nexport function parsesCsvRows');
  });

  it('answers prose for a question; num_predict stops it early with done_reason "length", never makes it longer', async () => {
    const sim = await startSimulator({ outputTokens: 40 });
    const ollama = new Ollama({ host: sim.url });
    const messages = [{ role: 'user', content: 'Why do trains run late in winter?' }];
    const whole = await ollama.chat({ model, messages });
    expect(whole).toMatchObject({ eval_count: 40, done_reason: 'stop' });
    expect(whole.message.content).not.toContain('```');
    const res = await ollama.chat({ model, messages, options: { num_predict: 12 } });
    expect(res).toMatchObject({ eval_count: 12, done_reason: 'length' });
    expect(whole.message.content.startsWith(res.message.content)).toBe(true);
    const generated = await ollama.generate({ model, prompt: 'Why do trains run late in winter?', options: { num_predict: 12 } });
    expect(generated).toMatchObject({ done: true, eval_count: 12, done_reason: 'length' });
    expect(generated.response).toBe(res.message.content);
    expect(await ollama.chat({ model, messages, options: { num_predict: 400 } })).toMatchObject({ eval_count: 40, done_reason: 'stop' });
  });

  it('lets a model that never stops run to its full context, or to num_predict', async () => {
    const sim = await startSimulator({ models: [{ name: 'tiny:latest', contextWindow: 300, endless: true }] });
    const ollama = new Ollama({ host: sim.url });
    const full = await ollama.chat({ model: 'tiny', messages: codePrompt });
    expect(full.done_reason).toBe('length');
    expect(full.prompt_eval_count + full.eval_count).toBe(300);
    expect(await ollama.chat({ model: 'tiny', messages: codePrompt, options: { num_predict: 25 } })).toMatchObject({ eval_count: 25, done_reason: 'length' });
    expect(sim.requests().map((r) => r.maxTokens)).toEqual([null, 25]);
  });

  it('matches model names as Ollama does: default tag, registry and namespace, any case', async () => {
    const sim = await startSimulator({ models: [{ name: 'tiny-stop:latest', contextWindow: 2048 }] });
    const ollama = new Ollama({ host: sim.url });
    for (const name of ['tiny-stop', 'Tiny-Stop:LATEST', 'registry.ollama.ai/library/tiny-stop']) {
      expect((await ollama.chat({ model: name, messages: codePrompt })).done).toBe(true);
    }
    await expect(ollama.chat({ model: 'tiny-stop:q4', messages: codePrompt })).rejects.toMatchObject({ status_code: 404 });
  });

  it('continues a trailing assistant message with exactly the rest of the answer', async () => {
    const sim = await startSimulator({ outputTokens: 50 });
    const ollama = new Ollama({ host: sim.url });
    const full = (await ollama.chat({ model, messages: codePrompt })).message.content;
    const prefix = full.slice(0, 77);
    const rest = await ollama.chat({ model, messages: [...codePrompt, { role: 'assistant', content: prefix }] });
    expect(prefix + rest.message.content).toBe(full);
  });

  it('continues a prefix it did not write where its end occurs in the answer, as a model continues text, not with a new answer', async () => {
    const sim = await startSimulator({ outputTokens: 50 });
    const ollama = new Ollama({ host: sim.url });
    const full = tokenize((await ollama.chat({ model, messages: codePrompt })).message.content);
    const continued = async (prefix: string) => (await ollama.chat({ model, messages: [...codePrompt, { role: 'assistant', content: prefix }] })).message.content;
    // Another writer's opening, then words of the answer: the answer goes on after those words.
    expect(await continued(`Well,${full.slice(20, 24).join('')}`)).toBe(full.slice(24).join(''));
    // Nothing of the answer in it: the answer follows from its start.
    expect(await continued('Zzyzx')).toBe(full.join(''));
  });

  it('lists models, their context windows, the loaded ones and the version', async () => {
    const sim = await startSimulator();
    const ollama = new Ollama({ host: sim.url });
    expect((await ollama.list()).models.map((m) => m.name)).toEqual(['qwen2.5-coder:7b', 'llama3.1:8b', 'qwen2.5-coder:32b']);
    expect((await ollama.show({ model: 'llama3.1:8b' })).model_info).toMatchObject({ 'llama.context_length': 131072 });
    expect((await ollama.ps()).models).toEqual([]);
    await ollama.chat({ model, messages: codePrompt, keep_alive: '10m' });
    const [loaded] = (await ollama.ps()).models;
    expect(loaded?.name).toBe(model);
    const ttl = new Date(loaded!.expires_at).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
    await ollama.chat({ model, messages: codePrompt, keep_alive: 0 });
    expect((await ollama.ps()).models).toEqual([]);
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('charges the model load time once per model and evicts the idle one past maxLoadedModels', async () => {
    const sim = await startSimulator({ modelLoadMs: 150, maxLoadedModels: 1 });
    const ollama = new Ollama({ host: sim.url });
    const first = await ollama.chat({ model, messages: codePrompt });
    const again = await ollama.chat({ model, messages: codePrompt });
    const other = await ollama.chat({ model: 'llama3.1:8b', messages: codePrompt });
    // Timers may fire up to a millisecond early.
    expect(first.load_duration).toBeGreaterThanOrEqual(149e6);
    expect(again.load_duration).toBeLessThan(20e6);
    expect(other.load_duration).toBeGreaterThanOrEqual(149e6);
    expect(sim.stats()).toMatchObject({ modelLoads: 2, loadedModels: ['llama3.1:8b'] });
  });

  it('lists loaded models in /api/ps with Ollama’s keys, latest expiry first, their memory size above the file size', async () => {
    const sim = await startSimulator({ modelLoadMs: 0, outputTokens: 3 });
    const ollama = new Ollama({ host: sim.url });
    await ollama.chat({ model: 'llama3.1:8b', messages: codePrompt, keep_alive: '1m' });
    await ollama.chat({ model, messages: codePrompt, keep_alive: '1h' });
    const ps = (await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<Record<string, unknown>> };
    expect(ps.models.map((m) => m.name)).toEqual([model, 'llama3.1:8b']);
    expect(Object.keys(ps.models[0]!)).toEqual(['name', 'model', 'size', 'digest', 'details', 'expires_at', 'size_vram', 'context_length']);
    const tags = (await (await fetch(`${sim.url}/api/tags`)).json()) as { models: Array<Record<string, unknown>> };
    expect(Object.keys(tags.models[0]!)).toEqual(['name', 'model', 'modified_at', 'size', 'digest', 'details']);
    const fileSize = tags.models.find((m) => m.name === model)!.size as number;
    expect(ps.models[0]!.size as number).toBeGreaterThan(fileSize);
  });

  it('evicts as Ollama does past maxLoadedModels: the idle model with the shortest keep_alive, not the least recently used', async () => {
    const sim = await startSimulator({ modelLoadMs: 0, outputTokens: 3, maxLoadedModels: 2 });
    const ollama = new Ollama({ host: sim.url });
    await ollama.chat({ model, messages: codePrompt, keep_alive: '1h' });
    await ollama.chat({ model: 'llama3.1:8b', messages: codePrompt, keep_alive: '5m' });
    await ollama.chat({ model: 'qwen2.5-coder:32b', messages: codePrompt });
    expect((await ollama.ps()).models.map((m) => m.name).sort()).toEqual(['qwen2.5-coder:32b', model]);
  });

  it('pulls a registry model with streamed progress, after which it is listed and served; a present model is a cache hit', async () => {
    const sim = await startSimulator({ registry: [{ name: 'mistral:7b', contextWindow: 32768, sizeBytes: 4_100_000_000 }], pullMs: 100 });
    const lines = await ndjson(`${sim.url}/api/pull`, { model: 'mistral:7b' });
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    const progress = lines.filter((line) => typeof line.digest === 'string');
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.every((line) => line.total === 4_100_000_000 && String(line.status).startsWith('pulling '))).toBe(true);
    expect(progress.at(-1)!.completed).toBe(4_100_000_000);
    expect(lines.slice(-3).map((line) => line.status)).toEqual(['verifying sha256 digest', 'writing manifest', 'success']);
    const ollama = new Ollama({ host: sim.url });
    expect((await ollama.list()).models.map((m) => m.name)).toContain('mistral:7b');
    expect((await ollama.chat({ model: 'mistral:7b', messages: codePrompt })).done).toBe(true);
    const again = await ndjson(`${sim.url}/api/pull`, { model: 'mistral:7b' });
    expect(again.filter((line) => typeof line.digest === 'string')).toHaveLength(1);
  });

  it('fails a pull of a model the registry lacks as Ollama does: an error line when streaming, a 500 otherwise, 400 for a bad name', async () => {
    const sim = await startSimulator();
    expect(await ndjson(`${sim.url}/api/pull`, { model: 'nope:1b' })).toEqual([{ status: 'pulling manifest' }, { error: 'pull model manifest: file does not exist' }]);
    const whole = await fetch(`${sim.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model: 'nope:1b', stream: false }) });
    expect(whole.status).toBe(500);
    expect(await whole.json()).toEqual({ error: 'pull model manifest: file does not exist' });
    const bad = await fetch(`${sim.url}/api/pull`, { method: 'POST', body: JSON.stringify({ model: 'Bad Name!!' }) });
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'invalid model name' }]);
  });

  it('refuses with Ollama’s 503 only requests arriving while their model loads, beyond the queue', async () => {
    const sim = await startSimulator({ slots: 1, maxQueue: 1, tokensPerSecond: 20, modelLoadMs: 2_000 });
    const controller = new AbortController();
    try {
      // One is loaded for, one waits in the queue, the other four are refused at once.
      const refused: unknown[] = [];
      for (let i = 0; i < 6; i++) {
        chat(sim.url, controller.signal)
          .then(async (r) => r.status === 503 && refused.push(await r.json()))
          .catch(() => {});
      }
      await expect.poll(() => refused).toHaveLength(4);
      expect(new Set(refused.map((body) => JSON.stringify(body)))).toEqual(new Set([JSON.stringify({ error: 'server busy, please try again.  maximum pending requests exceeded' })]));
      expect(sim.stats()).toMatchObject({ rejected: 4, modelLoads: 1 });
    } finally {
      controller.abort();
    }
  });

  it('never refuses requests for a loaded model: they wait for a slot without bound', async () => {
    const sim = await startSimulator({ slots: 1, maxQueue: 0, tokensPerSecond: 20, modelLoadMs: 0 });
    const controller = new AbortController();
    try {
      chat(sim.url, controller.signal).catch(() => {});
      await expect.poll(() => sim.stats()).toMatchObject({ active: 1, loadedModels: [model] });
      for (let i = 0; i < 12; i++) chat(sim.url, controller.signal).catch(() => {});
      await expect.poll(() => sim.stats()).toMatchObject({ active: 1, queued: 12, rejected: 0 });
    } finally {
      controller.abort();
    }
    await expect.poll(() => sim.stats()).toMatchObject({ active: 0, queued: 0 });
  });

  it('grants queued requests at once when configure() adds slots', async () => {
    const sim = await startSimulator({ slots: 1, tokensPerSecond: 20 });
    const controller = new AbortController();
    try {
      for (let i = 0; i < 3; i++) chat(sim.url, controller.signal).catch(() => {});
      await expect.poll(() => sim.stats()).toMatchObject({ active: 1, queued: 2 });
      sim.configure({ slots: 3 });
      expect(sim.stats()).toMatchObject({ active: 3, queued: 0 });
    } finally {
      controller.abort();
    }
  });

  it('paces a queued request at the speed in force when it starts, not when it arrived', async () => {
    // 20 tokens at 0.5 tokens/s would take 40 s; sped up while it waits, it finishes at once.
    const sim = await startSimulator({ slots: 1, tokensPerSecond: 0.5, timeToFirstTokenMs: 0, modelLoadMs: 0, outputTokens: 20 });
    const controller = new AbortController();
    const first = chat(sim.url, controller.signal).catch(() => {});
    await expect.poll(() => sim.stats().active).toBe(1);
    const second = fetch(`${sim.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model, messages: codePrompt, stream: false }) });
    await expect.poll(() => sim.stats().queued).toBe(1);
    sim.configure({ tokensPerSecond: 1000 });
    controller.abort();
    await first;
    const answer = (await (await second).json()) as { eval_count: number; eval_duration: number };
    expect(answer.eval_count).toBe(20);
    expect(answer.eval_duration).toBeLessThan(5e9);
  });

  it('refuses unknown models and prompts beyond the context window in Ollama’s shape', async () => {
    const sim = await startSimulator({ models: [{ name: model, contextWindow: 100 }] });
    const ollama = new Ollama({ host: sim.url });
    await expect(ollama.chat({ model: 'mistral:7b', messages: codePrompt })).rejects.toMatchObject({
      status_code: 404,
      error: "model 'mistral:7b' not found",
    });
    await expect(ollama.chat({ model, messages: [{ role: 'user', content: 'x'.repeat(800) }] })).rejects.toMatchObject({
      status_code: 400,
      error: 'prompt too long; exceeded max context length by 100 tokens',
    });
  });
});
