import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import { codePrompt, startSimulator, waitFor } from '../tests/support/llm';

const model = 'qwen2.5-coder:7b';
const chat = (url: string, body: Record<string, unknown> = {}, signal?: AbortSignal) =>
  fetch(`${url}/api/chat`, { method: 'POST', body: JSON.stringify({ model, messages: codePrompt, ...body }), ...(signal ? { signal } : {}) });

describe('simulator: faults', () => {
  it('are read and changed at run time through /_sim/faults, with counters at /_sim/stats', async () => {
    const sim = await startSimulator();
    const set = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 1 }) });
    expect(await set.json()).toMatchObject({ errorRate: 1, hang: false });
    const failed = await chat(sim.url);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: expect.stringContaining('llama runner') });
    const invalid = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 3 }) });
    expect(invalid.status).toBe(400);
    await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ errorRate: 0 }) });
    expect((await chat(sim.url)).status).toBe(200);
    expect(await (await fetch(`${sim.url}/_sim/stats`)).json()).toMatchObject({ requests: 2, errors: 1 });
  });

  it('cut a stream after N tokens without the final object, by reset or by a clean end', async () => {
    const sim = await startSimulator();
    sim.setFaults({ cutAfterTokens: 5, cutMode: 'end' });
    const ended = (await (await chat(sim.url)).text()).trimEnd().split('\n');
    expect(ended).toHaveLength(5);
    expect(ended.every((line) => !line.includes('"done":true'))).toBe(true);
    sim.setFaults({ cutMode: 'destroy' });
    const res = await chat(sim.url);
    await expect(res.text()).rejects.toThrow('terminated');
    await expect(chat(sim.url, { stream: false })).rejects.toThrow('fetch failed');
    expect(sim.stats()).toMatchObject({ cuts: 3, closedEarly: 0, active: 0 });
  });

  it('cut a share of streams at random points with cutRate', async () => {
    const sim = await startSimulator({ seed: 3, outputTokens: 20, tokensPerSecond: 20_000 });
    sim.setFaults({ cutRate: 0.5, cutMode: 'end' });
    const lengths = [];
    for (let i = 0; i < 20; i++) lengths.push((await (await chat(sim.url)).text()).trimEnd().split('\n').length);
    const cut = lengths.filter((n) => n < 21);
    expect(cut.length).toBeGreaterThan(3);
    expect(cut.length).toBeLessThan(17);
    expect(new Set(cut).size).toBeGreaterThan(1);
  });

  it('hang accepts a request and never answers until the client gives up', async () => {
    const sim = await startSimulator();
    sim.setFaults({ hang: true });
    await expect(chat(sim.url, {}, AbortSignal.timeout(150))).rejects.toThrow(/aborted|timeout/i);
    await waitFor(() => sim.stats().closedEarly, (n) => n === 1);
  });

  it('stallAfterTokens sends headers and N tokens, then nothing while holding the slot, until the client gives up', async () => {
    const sim = await startSimulator({ tokensPerSecond: 1000, slots: 1 });
    sim.setFaults({ stallAfterTokens: 3 });
    const client = new AbortController();
    const stalled = await chat(sim.url, {}, client.signal);
    expect(stalled.status).toBe(200);
    const reader = stalled.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    while (received.split('\n').length <= 3) received += decoder.decode((await reader.read()).value);
    await waitFor(() => sim.stats(), (stats) => stats.stalls === 1 && stats.active === 1);
    expect(received.trimEnd().split('\n')).toHaveLength(3);
    client.abort();
    await waitFor(() => sim.stats(), (stats) => stats.active === 0 && stats.closedEarly === 1);
    sim.setFaults({ stallAfterTokens: null });
    expect((await chat(sim.url, { options: { num_predict: 2 } })).status).toBe(200);
  });

  it('refuseConnections drops requests and running streams but keeps /_sim reachable', async () => {
    const sim = await startSimulator({ tokensPerSecond: 20 });
    const running = await chat(sim.url);
    const body = running.text();
    await waitFor(() => sim.stats().tokensStreamed, (n) => n > 0);
    await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ refuseConnections: true }) });
    await expect(body).rejects.toThrow('terminated');
    await expect(chat(sim.url)).rejects.toThrow('fetch failed');
    sim.setFaults({ refuseConnections: false });
    expect((await chat(sim.url, { options: { num_predict: 1 } })).status).toBe(200);
  });

  it('slowdownFactor stretches first token and token interval', async () => {
    const sim = await startSimulator({ tokensPerSecond: 1000, timeToFirstTokenMs: 10 });
    const ollama = new Ollama({ host: sim.url });
    const normal = await ollama.chat({ model, messages: codePrompt });
    sim.setFaults({ slowdownFactor: 4 });
    const slow = await ollama.chat({ model, messages: codePrompt });
    expect(slow.prompt_eval_duration).toBe(4 * normal.prompt_eval_duration);
    // Pacing never sends early: 40 tokens at 4 ms each take at least 39 intervals.
    expect(slow.eval_duration).toBeGreaterThanOrEqual(39 * 4e6);
    expect(normal.eval_duration).toBeLessThan(slow.eval_duration);
  });
});
