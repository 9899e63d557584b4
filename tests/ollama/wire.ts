import { expect } from 'vitest';
import { BackendError } from '../../server/llm/errors';
import type { ChatRequest, LlmBackend } from '../../server/llm/types';

/** Helpers for the tests against a real Ollama: raw HTTP where the wire itself is under test. */

export async function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });
}

/** The parsed lines of an NDJSON response (Ollama's native streaming). */
export async function ndjson(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export const keysOf = (value: unknown) => Object.keys(value as object).sort();

export async function collect(backend: LlmBackend, req: ChatRequest) {
  const pieces: string[] = [];
  const result = await backend.streamChat(req, (text) => pieces.push(text));
  return { result, pieces };
}

export async function failure(promise: Promise<unknown>): Promise<BackendError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BackendError);
  return error as BackendError;
}

/** Polls until `read` satisfies `done`; generous by default, since a busy machine slows the server. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const busyBody = { error: 'server busy, please try again.  maximum pending requests exceeded' };
export const user = (content: string) => [{ role: 'user' as const, content }];
