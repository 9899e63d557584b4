import { onTestFinished } from 'vitest';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../simulator';

/**
 * The most requests a backend ever held at once, from its request log. A real Ollama (and the
 * simulator) queues a request beyond its slots instead of refusing it, so a double grant shows only
 * as overlap. An interval ending when the next begins does not overlap it.
 */
export function peakRequests(sim: Simulator): number {
  const edges = sim.requests().flatMap((r) => [{ at: r.arrivedAt, delta: 1 }, { at: r.endedAt, delta: -1 }]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let peak = 0;
  for (const { delta } of edges) peak = Math.max(peak, (open += delta));
  return peak;
}

/** A fast simulator that is closed when the current test ends, whether it passed or not. */
export async function startSimulator(options: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const sim = await createSimulator({ tokensPerSecond: 2000, timeToFirstTokenMs: 2, modelLoadMs: 0, outputTokens: 40, ...options });
  onTestFinished(() => sim.close());
  return sim;
}

/**
 * A simulator playing OpenAI itself: it lists and answers only `gpt-4o-mini`, matched exactly, so
 * a job reaches it only through the catalogue's mapping (seedCatalog maps qwen2.5-coder:7b to it).
 */
export const openaiCloud = { server: 'openai', models: [{ name: 'gpt-4o-mini', contextWindow: 128_000 }] } as const satisfies Partial<SimulatorOptions>;

/** A URL nothing listens on: a simulator's, after closing it. */
export async function closedUrl(): Promise<string> {
  const sim = await createSimulator();
  await sim.close();
  return sim.url;
}

export async function waitFor<T>(read: () => T, done: (value: T) => boolean, timeoutMs = 2_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const codePrompt = [{ role: 'user' as const, content: 'Write a TypeScript function that parses CSV rows into objects' }];
