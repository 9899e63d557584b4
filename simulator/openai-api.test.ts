import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { codePrompt, startSimulator } from '../tests/support/llm';

const model = 'qwen2.5-coder:7b';

describe('simulator: OpenAI API', () => {
  it('streams SSE chunks, a finish_reason chunk, a usage chunk and [DONE]', async () => {
    const sim = await startSimulator({ outputTokens: 20 });
    const res = await fetch(`${sim.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model, messages: codePrompt, stream: true, stream_options: { include_usage: true } }),
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text()).split('\n\n');
    expect(events.pop()).toBe('');
    expect(events.pop()).toBe('data: [DONE]');
    const chunks = events.map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return JSON.parse(e.slice(6)) as OpenAI.ChatCompletionChunk;
    });
    expect(chunks).toHaveLength(22);
    expect(chunks[0]).toMatchObject({ object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] });
    expect(chunks[20]!.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks[21]).toMatchObject({ choices: [], usage: { completion_tokens: 20, total_tokens: 20 + chunks[21]!.usage!.prompt_tokens } });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('gives the same text through the openai client streaming and not, and the same as the Ollama API', async () => {
    const sim = await startSimulator();
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sim', maxRetries: 0 });
    const whole = await client.chat.completions.create({ model, messages: codePrompt });
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model, messages: codePrompt, stream: true })) text += chunk.choices[0]?.delta.content ?? '';
    expect(whole.choices[0]?.message.content).toBe(text);
    expect(whole.usage?.completion_tokens).toBe(40);
    const ollama = (await (await fetch(`${sim.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model, messages: codePrompt, stream: false }) })).json()) as {
      message: { content: string };
    };
    expect(ollama.message.content).toBe(text);
  });

  it('stops at max_tokens with finish_reason "length", and lists models with their context windows', async () => {
    const sim = await startSimulator();
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sim', maxRetries: 0 });
    const res = await client.chat.completions.create({ model, messages: codePrompt, max_tokens: 7 });
    expect(res.usage?.completion_tokens).toBe(7);
    expect(res.choices[0]?.finish_reason).toBe('length');
    let finish: string | null = null;
    for await (const chunk of await client.chat.completions.create({ model, messages: codePrompt, max_tokens: 7, stream: true })) {
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('length');
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models).toMatchObject([
      { id: 'qwen2.5-coder:7b', object: 'model', context_window: 32768 },
      { id: 'llama3.1:8b', object: 'model', context_window: 131072 },
      { id: 'qwen2.5-coder:32b', object: 'model', context_window: 32768 },
    ]);
  });

  it('plays OpenAI itself when asked: its own model ids only, matched exactly, and no Ollama API', async () => {
    const sim = await startSimulator({ server: 'openai', models: [{ name: 'gpt-4o-mini', contextWindow: 128_000 }] });
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sim', maxRetries: 0 });
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models).toEqual([{ id: 'gpt-4o-mini', object: 'model', created: expect.any(Number), owned_by: 'system' }]);
    expect((await client.chat.completions.create({ model: 'gpt-4o-mini', messages: codePrompt })).choices[0]?.finish_reason).toBe('stop');
    for (const name of ['qwen2.5-coder:7b', 'GPT-4o-mini', 'gpt-4o-mini:latest']) {
      await expect(client.chat.completions.create({ model: name, messages: codePrompt })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    }
    const ollama = await fetch(`${sim.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4o-mini', messages: codePrompt }) });
    expect(ollama.status).toBe(404);
    expect(await ollama.json()).toEqual({ error: { message: 'Invalid URL (POST /api/chat)', type: 'invalid_request_error', param: null, code: null } });
  });

  it('answers errors in OpenAI’s shape: 404 model_not_found, 400 context_length_exceeded', async () => {
    const sim = await startSimulator({ models: [{ name: model, contextWindow: 50 }] });
    const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sim', maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'gpt-9', messages: codePrompt })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
      type: 'invalid_request_error',
      message: expect.stringContaining('gpt-9'),
    });
    await expect(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'y'.repeat(400) }] })).rejects.toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
      message: expect.stringMatching(/maximum context length is 50 tokens.*resulted in 100 tokens/),
    });
  });
});
