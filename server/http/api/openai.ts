import { randomUUID } from 'node:crypto';
import express, { type Response } from 'express';
import { NotFoundError } from '../../errors';
import type { Services } from '../../services';
import type { ChatOutcome } from '../../../workflows/definitions';
import { startChat, type QueuedAt } from './chat-run';
import { bearerKey, bindToConnection, bodyErrors, JOB_ID_HEADER, jsonBodies, parseBody } from './common';
import { chatFromOpenAI, openaiChatBody } from './input';
import { refusalOf, type Refusal } from './refusal';

/** While a streamed request waits, its last position is repeated this often, so proxies and clients keep the connection. */
const QUEUED_REPEAT_MS = 10_000;

const ERROR_TYPES: Record<Refusal['kind'], { type: string; code: string | null }> = {
  unauthorized: { type: 'invalid_request_error', code: 'invalid_api_key' },
  model: { type: 'invalid_request_error', code: 'model_not_found' },
  invalid: { type: 'invalid_request_error', code: null },
  limit: { type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' },
  unavailable: { type: 'server_error', code: null },
  failed: { type: 'server_error', code: null },
};

function errorBody(refusal: Refusal) {
  return { error: { message: refusal.message, ...ERROR_TYPES[refusal.kind], param: refusal.param } };
}

function reply(res: Response, error: unknown): void {
  const refusal = refusalOf(error);
  if (refusal.retryAfter !== null) res.set('Retry-After', String(refusal.retryAfter));
  res.status(refusal.status).json(errorBody(refusal));
}

const usageOf = (outcome: ChatOutcome) => ({
  prompt_tokens: outcome.promptTokens,
  completion_tokens: outcome.completionTokens,
  total_tokens: outcome.promptTokens + outcome.completionTokens,
});
const finishReason = (outcome: ChatOutcome) => (outcome.truncated ? 'length' : 'stop');
const queuedComment = ({ position, etaMs }: QueuedAt) => `: queued position=${position}${etaMs === null ? '' : ` eta=${Math.ceil(etaMs / 1000)}s`}\n\n`;

/**
 * OpenAI's chat completions and models API (`/v1`), for editors and scripts configured for an
 * OpenAI-compatible endpoint. Every request is a job of the key's team, through the same admission
 * and scheduler as the web form; see docs/api.md.
 */
export function openaiRouter(services: Services) {
  const router = express.Router();

  router.get('/models', async (req, res) => {
    try {
      const caller = await services.apiKeys.authenticate(bearerKey(req));
      const models = await services.apiModels.list(caller.team.tier);
      res.json({
        object: 'list',
        data: models.map((m) => ({ id: m.name, object: 'model', created: Math.floor(m.modifiedAt.getTime() / 1000), owned_by: 'switchyard' })),
      });
    } catch (error) {
      reply(res, error);
    }
  });

  router.post('/chat/completions', jsonBodies, async (req, res) => {
    const jobId = randomUUID();
    const id = `chatcmpl-${jobId}`;
    const created = Math.floor(Date.now() / 1000);
    let stream = false;
    let model = '';
    let queued: string | null = null;
    let repeat: NodeJS.Timeout | undefined;
    const chunk = (delta: object, finish: string | null) => ({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] });
    // A stream opens with the first thing it has to say: a refusal before that is a plain error response.
    const open = () => {
      if (res.headersSent) return;
      res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' }).flushHeaders();
    };
    const event = (data: object) => {
      open();
      res.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    let roleSent = false;
    try {
      const caller = await services.apiKeys.authenticate(bearerKey(req));
      const body = parseBody(openaiChatBody, req.body);
      stream = body.stream === true;
      model = body.model;
      res.set(JOB_ID_HEADER, jobId);
      const run = await startChat(
        services,
        { caller, jobId, model, chat: chatFromOpenAI(body) },
        stream
          ? {
              onText: (text) => {
                clearInterval(repeat);
                event(chunk(roleSent ? { content: text } : { role: 'assistant', content: text }, null));
                roleSent = true;
              },
              onQueued: (at) => {
                open();
                queued = queuedComment(at);
                res.write(queued);
                clearInterval(repeat);
                repeat = setInterval(() => res.write(queued!), QUEUED_REPEAT_MS);
              },
            }
          : { onText: () => undefined },
      );
      const connection = bindToConnection(res, run);
      const outcome = await run.finish().finally(() => {
        connection.settle();
        clearInterval(repeat);
      });
      if (!stream) {
        res.json({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: outcome.text }, finish_reason: finishReason(outcome), logprobs: null }],
          usage: usageOf(outcome),
        });
        return;
      }
      if (!roleSent) event(chunk({ role: 'assistant', content: '' }, null));
      event(chunk({}, finishReason(outcome)));
      if (body.stream_options?.include_usage) event({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usageOf(outcome) });
      res.end('data: [DONE]\n\n');
    } catch (error) {
      clearInterval(repeat);
      if (res.closed || res.destroyed) return;
      if (!res.headersSent) return reply(res, error);
      // Mid-stream, the status is sent: the error travels as an event, which OpenAI's clients raise.
      event(errorBody(refusalOf(error)));
      res.end();
    }
  });

  router.use(bodyErrors(reply));
  router.use((req, res) => reply(res, new NotFoundError(`${req.method} /v1${req.path}`)));
  return router;
}
