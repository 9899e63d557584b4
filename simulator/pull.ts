import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SimulatorCore } from './core';
import { digestOf, fileSizeOf } from './model-files';
import type { SimModel } from './options';
import { sameOllamaModel } from '../server/llm/model-names';

/**
 * POST /api/pull as Ollama 0.17.4 answers it (server/images.go `PullModel`, routes.go `PullHandler`):
 * NDJSON progress objects `{status, digest?, total?, completed?}` (zero fields left out), ending in
 * `{"status":"success"}`, or an `{"error"}` line once streaming began. `stream:false` answers only
 * the last object, or the error with a 500. The simulator's registry is `options.registry`; any
 * other name fails as a missing manifest does.
 */

type Progress = { status: string; digest?: string; total?: number; completed?: number };

/** Ollama's model.ParseName accepts [host/][namespace/]model[:tag]; anything with spaces or symbols is refused. */
const validName = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*){0,2}(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?$/;
const progressSteps = 10;

export async function pull(core: SimulatorCore, res: ServerResponse, body: unknown): Promise<void> {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as { model?: unknown; name?: unknown; stream?: unknown };
  const name = typeof fields.model === 'string' && fields.model !== '' ? fields.model : typeof fields.name === 'string' ? fields.name : '';
  if (!validName.test(name)) return answer(res, 400, { error: 'invalid model name' }, 'application/json; charset=utf-8');
  const stream = fields.stream !== false;
  const aborted = new AbortController();
  res.once('close', () => aborted.abort());

  let last: Progress = { status: '' };
  const send = (progress: Progress) => {
    last = progress;
    if (!stream) return;
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    res.write(`${JSON.stringify(progress)}\n`);
  };
  const fail = (error: string): void => {
    if (stream) res.end(`${JSON.stringify({ error })}\n`);
    else answer(res, 500, { error });
  };

  send({ status: 'pulling manifest' });
  const present = core.findModel(name);
  const wanted = present ?? core.options.registry.find((m) => sameOllamaModel(m.name, name));
  if (!wanted) return fail('pull model manifest: file does not exist');
  const digest = `sha256:${digestOf(`${wanted.name}/blob`)}`;
  const total = fileSizeOf(wanted);
  const layer = (completed: number) => ({ status: `pulling ${digest.slice(7, 19)}`, digest, total, ...(completed > 0 ? { completed } : {}) });
  if (present) {
    // Every blob already there: one progress object each, complete (a cache hit).
    send(layer(total));
  } else {
    const stepMs = (core.options.pullMs * core.faults.slowdownFactor) / progressSteps;
    for (let step = 0; step <= progressSteps; step++) {
      send(layer(Math.round((total * step) / progressSteps)));
      if (step < progressSteps) {
        // A client that goes away cancels the pull, as Ollama's request context does.
        const cancelled = await sleep(stepMs, false, { signal: aborted.signal }).catch(() => true);
        if (cancelled) return;
      }
    }
  }
  send({ status: 'verifying sha256 digest' });
  send({ status: 'writing manifest' });
  if (!present) addModel(core, wanted);
  send({ status: 'success' });
  if (stream) res.end();
  else answer(res, 200, last);
}

/** `stream:false` answers as gin's c.JSON after Ollama set the type: no charset. */
function answer(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function addModel(core: SimulatorCore, model: SimModel): void {
  if (!core.findModel(model.name)) core.configure({ models: [...core.options.models, model] });
}
