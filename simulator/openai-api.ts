import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { Failure, Framing, Outcome, SimulatorCore } from './core';
import { jsonString, sendJson } from './http';

/** The OpenAI-compatible API (/v1/*), as served by OpenAI itself and by Ollama's compatibility layer. */

const contentPart = z.object({ type: z.string(), text: z.string().optional() }).loose();
const message = z
  .object({ role: z.string(), content: z.union([z.string(), z.array(contentPart), z.null()]).default('') })
  .loose();

const completionBody = z
  .object({
    model: z.string().min(1, 'you must provide a model parameter'),
    messages: z.array(message).min(1, "'messages' must contain at least one message"),
    stream: z.boolean().default(false),
    stream_options: z.object({ include_usage: z.boolean().optional() }).loose().nullish(),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
  })
  .loose();

type Handler = (core: SimulatorCore, req: IncomingMessage, res: ServerResponse, body: unknown) => Promise<void> | void;

let completions = 0;

export const openaiRoutes: Record<string, Handler> = {
  'POST /v1/chat/completions': async (core, req, res, body) => {
    const parsed = completionBody.safeParse(body);
    if (!parsed.success) {
      return sendJson(res, 400, apiError(parsed.error.issues[0]?.message ?? 'invalid request', 'invalid_request_error', null));
    }
    const b = parsed.data;
    const messages = b.messages.map((m) => ({ role: m.role, content: textOf(m.content) }));
    const maxTokens = b.max_completion_tokens ?? b.max_tokens ?? undefined;
    const framing = openaiFraming(b.model, b.stream_options?.include_usage === true);
    await core.generate(req, res, { model: b.model, messages, stream: b.stream, maxTokens, keepAlive: undefined }, framing);
  },
  'GET /v1/models': (core, _req, res) => {
    const openai = core.options.server === 'openai';
    sendJson(res, 200, {
      object: 'list',
      // context_window is not in OpenAI's schema; several compatible providers add it, and the adapter reads it.
      data: core.options.models.map((m) => ({
        id: m.name,
        object: 'model',
        created: 1736935200,
        owned_by: openai ? 'system' : 'library',
        ...(openai ? {} : { context_window: m.contextWindow }),
      })),
    });
  },
};

function textOf(content: string | Array<z.infer<typeof contentPart>> | null): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => part.text ?? '').join('');
}

function apiError(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function openaiFraming(model: string, includeUsage: boolean): Framing {
  const id = `chatcmpl-sim${++completions}`;
  const created = Math.floor(Date.now() / 1000);
  const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${jsonString(model)},"system_fingerprint":"fp_sim","choices":[`;
  const tokenOpen = `data: ${head}{"index":0,"delta":{"role":"assistant","content":`;
  const tokenClose = '},"finish_reason":null}]}\n\n';
  const usage = (o: Outcome) => ({ prompt_tokens: o.promptTokens, completion_tokens: o.completionTokens, total_tokens: o.promptTokens + o.completionTokens });
  return {
    streamContentType: 'text/event-stream',
    tokens(tokens, from, to) {
      let out = '';
      for (let i = from; i < to; i++) out += tokenOpen + jsonString(tokens[i]!) + tokenClose;
      return out;
    },
    closing(o) {
      const finish = `data: ${head}{"index":0,"delta":{},"finish_reason":"${o.doneReason}"}]}\n\n`;
      const usageChunk = includeUsage ? `data: ${head}],"usage":${JSON.stringify(usage(o))}}\n\n` : '';
      return `${finish}${usageChunk}data: [DONE]\n\n`;
    },
    whole: (o) => ({
      id,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: 'fp_sim',
      choices: [{ index: 0, message: { role: 'assistant', content: o.text }, finish_reason: o.doneReason }],
      usage: usage(o),
    }),
    failure: openaiFailure,
  };
}

function openaiFailure(failure: Failure): { status: number; body: unknown } {
  switch (failure.kind) {
    case 'unknown_model':
      return {
        status: 404,
        body: apiError(`The model \`${failure.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found'),
      };
    case 'context_overflow':
      return {
        status: 400,
        body: apiError(
          `This model's maximum context length is ${failure.contextWindow} tokens. However, your messages resulted in ${failure.promptTokens} tokens. Please reduce the length of the messages.`,
          'invalid_request_error',
          'context_length_exceeded',
          'messages',
        ),
      };
    case 'busy':
      // Only Ollama's /v1 says this (OpenAI has no such queue), in Ollama's envelope.
      return { status: 503, body: apiError('server busy, please try again.  maximum pending requests exceeded', 'api_error', null) };
    case 'server_error':
      return { status: 500, body: apiError('The server had an error while processing your request. Sorry about that!', 'server_error', null) };
  }
}
