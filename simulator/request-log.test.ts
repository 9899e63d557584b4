import { describe, expect, it } from 'vitest';
import { codePrompt, startSimulator, waitFor } from '../tests/support/llm';

const model = 'qwen2.5-coder:7b';
const chat = (url: string, signal?: AbortSignal) =>
  fetch(`${url}/api/chat`, { method: 'POST', body: JSON.stringify({ model, messages: codePrompt }), ...(signal ? { signal } : {}) });

describe('simulator: request log', () => {
  it('records when each request arrived, got a slot and ended, at /_sim/requests', async () => {
    const sim = await startSimulator({ slots: 1, maxQueue: 0, outputTokens: 10, tokensPerSecond: 20, timeToFirstTokenMs: 0, modelLoadMs: 2_000 });
    const before = performance.timeOrigin + performance.now();
    // No queue for loads: a request arriving while the first loads the model is refused; once it
    // is loaded, the next one waits for the slot.
    const first = chat(sim.url).then((r) => r.text());
    await waitFor(() => sim.stats().active, (n) => n === 1);
    expect((await chat(sim.url)).status).toBe(503);
    await waitFor(() => sim.stats().loadedModels, (loaded) => loaded.includes(model));
    const second = chat(sim.url).then((r) => r.text());
    await waitFor(() => sim.stats().queued, (n) => n === 1);
    await Promise.all([first, second]);
    const left = new AbortController();
    const leaving = chat(sim.url, left.signal).then((r) => r.text());
    await waitFor(() => sim.stats().active, (n) => n === 1);
    left.abort();
    await leaving.catch(() => undefined);
    await waitFor(() => sim.requests().length, (n) => n === 4);

    const { requests } = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as { requests: ReturnType<typeof sim.requests> };
    expect(requests).toEqual(sim.requests());
    expect(requests.map((r) => r.outcome).sort()).toEqual(['aborted', 'completed', 'completed', 'refused']);
    const [a, b] = requests.filter((r) => r.outcome === 'completed').sort((x, y) => x.arrivedAt - y.arrivedAt);
    expect(a!.arrivedAt).toBeGreaterThanOrEqual(before);
    expect(a!.slotAt).toBeGreaterThanOrEqual(a!.arrivedAt);
    expect(a!.endedAt).toBeGreaterThan(a!.slotAt!);
    // The queued request got the slot only when the first one gave it back.
    expect(b!.arrivedAt).toBeLessThan(a!.endedAt);
    expect(b!.slotAt).toBeGreaterThanOrEqual(a!.endedAt - 1);
    expect(requests.find((r) => r.outcome === 'refused')!.slotAt).toBeNull();
    expect(requests.every((r) => r.model === model)).toBe(true);
  });
});
