import fs from 'node:fs';
import http from 'node:http';
import { expect } from 'vitest';
import { BackendError } from '../../server/llm/errors';
import type { ChatRequest, LlmBackend } from '../../server/llm/types';

/** Helpers for the tests against a real Ollama: raw HTTP where the wire itself is under test. */

export async function postJson(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });
}

/**
 * POSTs the bodies so that they arrive together, however busy the machine: each request is sent
 * but for its last byte, and the last bytes go out once every request is on the wire. A server
 * acts on a request only once it has its whole body, so all of them reach it at once — within
 * microseconds, not the milliseconds to seconds that opening connections one after another takes
 * on a loaded machine. Statuses and parsed bodies, in order.
 */
export async function postTogether(url: string, bodies: unknown[]): Promise<Array<{ status: number; body: Record<string, unknown> }>> {
  const requests = bodies.map((body) => {
    const payload = Buffer.from(JSON.stringify(body));
    const request = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': payload.length } });
    const answered = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      request.once('error', reject);
      request.once('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('error', reject);
        response.once('end', () => resolve({ status: response.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }));
      });
    });
    const onTheWire = new Promise<void>((resolve, reject) => request.write(payload.subarray(0, -1), (error) => (error ? reject(error) : resolve())));
    return { request, last: payload.subarray(-1), answered, onTheWire };
  });
  await Promise.all(requests.map((r) => r.onTheWire));
  for (const { request, last } of requests) request.end(last);
  return Promise.all(requests.map((r) => r.answered));
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

/**
 * True once none of the server's model runners is generating: none used a clock tick of CPU over
 * one second. A runner generating the tiny model uses tens of ticks a second even on a machine
 * busy with eight runnable processes on two cores, and an idle one none.
 *
 * This, not "the next request on the only slot is served", is how the tests see that a dropped or
 * cancelled request stopped generating. Ollama 0.17.4 has a race there: its chat handler hands each
 * piece to the response writer over an unbuffered channel, and when the writer quits on a closed
 * connection while the next piece is being handed over, the sender blocks for good
 * (server/routes.go, `ch <- res`) and never gives back the runner's request permit
 * (llm/server.go, `s.sem`). The runner itself stops, but later requests for that model on that
 * server wait forever. It shows on a busy machine, about once in 20 to 200 drops.
 */
export async function runnersIdle(ollama: { runnerPids(): number[] }): Promise<boolean> {
  const pids = ollama.runnerPids();
  if (pids.length === 0) throw new Error('the server runs no model runner: nothing to watch');
  const before = pids.map(cpuTicks);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return pids.every((pid, i) => cpuTicks(pid) === before[i]);
}

/** User plus system CPU of a process in clock ticks (fields 14 and 15 of /proc/PID/stat); 0 once it has exited. */
function cpuTicks(pid: number): number {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export const busyBody = { error: 'server busy, please try again.  maximum pending requests exceeded' };
export const user = (content: string) => [{ role: 'user' as const, content }];
