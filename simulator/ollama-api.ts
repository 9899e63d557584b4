import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Failure, Framing, Outcome, SimulatorCore } from './core';
import { jsonString, sendJson } from './http';
import { details, digestOf, fileSizeOf, memorySizeOf } from './model-files';
import { pull } from './pull';

/** Ollama's native API (/api/*), framed byte for byte like Ollama 0.17: NDJSON, durations in ns. */

/** The version compose deploys and the real-Ollama tests build (docker/docker.test.ts holds them equal). */
export const ollamaVersion = '0.17.4';

const options = z.object({ num_predict: z.number().int().optional() }).loose().optional();
const keepAlive = z.union([z.string(), z.number()]).optional();
const message = z.object({ role: z.string(), content: z.string().default('') }).loose();

const chatBody = z.object({
  model: z.string().min(1, 'model is required'),
  messages: z.array(message).default([]),
  stream: z.boolean().default(true),
  keep_alive: keepAlive,
  options,
}).loose();

const generateBody = z.object({
  model: z.string().min(1, 'model is required'),
  prompt: z.string().default(''),
  system: z.string().optional(),
  stream: z.boolean().default(true),
  keep_alive: keepAlive,
  options,
}).loose();

const showBody = z.object({ model: z.string().optional(), name: z.string().optional() }).loose();

type Handler = (core: SimulatorCore, req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void> | void;

export const ollamaRoutes: Record<string, Handler> = {
  'POST /api/chat': async (core, req, res, body) => {
    const parsed = chatBody.safeParse(body);
    if (!parsed.success) return badRequest(res, parsed.error);
    const b = parsed.data;
    const messages = b.messages.map((m) => ({ role: m.role, content: m.content }));
    await core.generate(req, res, { model: b.model, messages, stream: b.stream, maxTokens: numPredict(b.options), keepAlive: b.keep_alive }, ollamaFraming(b.model, 'chat'));
  },
  'POST /api/generate': async (core, req, res, body) => {
    const parsed = generateBody.safeParse(body);
    if (!parsed.success) return badRequest(res, parsed.error);
    const b = parsed.data;
    const messages = [...(b.system ? [{ role: 'system', content: b.system }] : []), { role: 'user', content: b.prompt }];
    await core.generate(req, res, { model: b.model, messages, stream: b.stream, maxTokens: numPredict(b.options), keepAlive: b.keep_alive }, ollamaFraming(b.model, 'generate'));
  },
  'GET /api/tags': (core, _req, res) => {
    sendJson(res, 200, { models: core.options.models.map((m) => ({ name: m.name, model: m.name, modified_at: modifiedAt, size: fileSizeOf(m), digest: digestOf(m.name), details: details(m.name) })) });
  },
  'GET /api/ps': (core, _req, res) => {
    // Ollama's keys, in its order; `size` is the runner's memory (weights, KV cache, graph), not the file.
    const models = core.residency.list().map((loaded) => {
      const m = core.findModel(loaded.name) ?? { name: loaded.name, contextWindow: 4096 };
      const size = memorySizeOf(m);
      return {
        name: m.name,
        model: m.name,
        size,
        digest: digestOf(m.name),
        details: details(m.name),
        expires_at: new Date(Number.isFinite(loaded.expiresAt) ? loaded.expiresAt : Date.UTC(2318, 0, 1)).toISOString(),
        size_vram: size,
        context_length: m.contextWindow,
      };
    });
    sendJson(res, 200, { models });
  },
  'POST /api/pull': (core, _req, res, body) => pull(core, res, body),
  'POST /api/show': (core, _req, res, body) => {
    const parsed = showBody.safeParse(body);
    const name = parsed.success ? (parsed.data.model ?? parsed.data.name ?? '') : '';
    const model = core.findModel(name);
    if (!model) return sendJson(res, 404, { error: `model '${name}' not found` });
    const family = details(model.name).family;
    sendJson(res, 200, {
      license: '',
      modelfile: `FROM ${model.name}`,
      parameters: '',
      template: '{{ .Prompt }}',
      details: details(model.name),
      model_info: { 'general.architecture': family, [`${family}.context_length`]: model.contextWindow },
      capabilities: ['completion'],
      modified_at: modifiedAt,
    });
  },
  'GET /api/version': (_core, _req, res) => {
    sendJson(res, 200, { version: ollamaVersion });
  },
};

function numPredict(o: z.infer<typeof options>): number | undefined {
  const n = o?.num_predict;
  return n !== undefined && n > 0 ? n : undefined;
}

function badRequest(res: ServerResponse, error: z.ZodError): void {
  sendJson(res, 400, { error: error.issues[0]?.message ?? 'invalid request' });
}

function ollamaFraming(model: string, endpoint: 'chat' | 'generate'): Framing {
  const head = `{"model":${jsonString(model)},"created_at":"`;
  const [open, close] = endpoint === 'chat' ? ['","message":{"role":"assistant","content":', '},"done":false}\n'] : ['","response":', ',"done":false}\n'];
  const content = (text: string) => (endpoint === 'chat' ? { message: { role: 'assistant', content: text } } : { response: text });
  // Ollama's metrics are omitempty: a zero is left out, not sent.
  const metrics = (o: Outcome) =>
    Object.fromEntries(
      Object.entries({
        total_duration: ns(o.totalMs),
        load_duration: ns(o.loadMs),
        prompt_eval_count: o.promptTokens,
        prompt_eval_duration: ns(o.promptMs),
        eval_count: o.completionTokens,
        eval_duration: ns(o.evalMs),
      }).filter(([, value]) => value !== 0),
    );
  const summary = (o: Outcome) => ({ done: true, done_reason: o.doneReason, ...metrics(o) });
  return {
    streamContentType: 'application/x-ndjson',
    tokens(tokens, from, to) {
      const prefix = head + new Date().toISOString() + open;
      let out = '';
      for (let i = from; i < to; i++) out += prefix + jsonString(tokens[i]!) + close;
      return out;
    },
    closing: (o) => `${JSON.stringify({ model, created_at: new Date().toISOString(), ...content(''), ...summary(o) })}\n`,
    whole: (o) => ({ model, created_at: new Date().toISOString(), ...content(o.text), ...summary(o) }),
    failure: ollamaFailure,
  };
}

function ollamaFailure(failure: Failure): { status: number; body: unknown } {
  switch (failure.kind) {
    case 'unknown_model':
      return { status: 404, body: { error: `model '${failure.model}' not found` } };
    case 'context_overflow':
      return {
        status: 400,
        body: { error: `prompt too long; exceeded max context length by ${failure.promptTokens - failure.contextWindow} tokens` },
      };
    case 'busy':
      return { status: 503, body: { error: 'server busy, please try again.  maximum pending requests exceeded' } };
    case 'server_error':
      return { status: 500, body: { error: 'llama runner process has terminated: exit status 2' } };
  }
}

const ns = (ms: number) => Math.round(ms * 1e6);
const modifiedAt = '2025-01-15T10:00:00.000Z';

