import { Ollama } from 'ollama';
import type { Arrivals } from './arrivals';
import { sleepUntil, type Cap } from './cap';
import type { Outcome } from './outcomes';

/**
 * The seed's design "without Temporal": each user's request goes straight to an Ollama instance,
 * round-robin across them, with the official client, streaming — no queue of its own, no retry.
 * A user waits for the answer as long as the scenario lasts.
 */

export const BENCH_MODEL = 'qwen2.5-coder:7b';
// One-line requirements: Switchyard runs no review step for them, so both designs make one model call per job.
export const BENCH_REQUIREMENTS = 'reverse a string';

export interface BaselineRun {
  outcomes: Outcome[];
  done: Promise<void>;
}

export function runBaseline(ollamaUrls: readonly string[], arrivals: Arrivals, started: number, limit: Cap): BaselineRun {
  const cap = limit.signal;
  const outcomes: Outcome[] = arrivals.map((at) => ({ arrivedAt: at }));
  // Independent clients: each has its own connection (fetch's default pool), as separate users would.
  const fetchWithCap: typeof fetch = (input, init) =>
    fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, cap]) : cap });

  const one = async (user: number, outcome: Outcome) => {
    await sleepUntil(started + outcome.arrivedAt, cap);
    if (cap.aborted) return void (outcome.error = limit.cutOffLabel);
    try {
      const ollama = new Ollama({ host: ollamaUrls[user % ollamaUrls.length]!, fetch: fetchWithCap });
      const stream = await ollama.chat({
        model: BENCH_MODEL,
        stream: true,
        messages: [{ role: 'user', content: `${BENCH_REQUIREMENTS} (user ${user})` }],
      });
      let finished = false;
      for await (const part of stream) finished = part.done;
      if (!finished) throw new Error('stream ended before the final object');
      outcome.finishedAt = performance.now() - started;
    } catch (error) {
      outcome.finishedAt = performance.now() - started;
      outcome.error = cap.aborted ? limit.cutOffLabel : classifyDirectError(error);
    }
  };

  return {
    outcomes,
    done: Promise.all(outcomes.map((outcome, user) => one(user, outcome))).then(() => {}),
  };
}

/** Names the ways a direct call fails, as a user of the direct design would see them. */
export function classifyDirectError(error: unknown): string {
  const status = (error as { status_code?: number }).status_code;
  if (status === 503) return '503 queue full';
  if (status) return `HTTP ${status}`;
  const cause = (error as { cause?: { code?: string } }).cause;
  const code = cause?.code ?? (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'connection reset';
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') return 'timeout (connect/headers)';
  if (error instanceof Error && /terminated|before the final object/.test(error.message)) return 'stream cut';
  return code ?? (error instanceof Error ? error.name : 'unknown');
}
