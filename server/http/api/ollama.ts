import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { NotFoundError } from '../../errors';
import type { Services } from '../../services';
import type { ApiModel } from '../../services/api-models';
import type { ChatRequest } from '../../services/chat-request';
import type { ChatOutcome } from '../../../workflows/definitions';
import { startChat } from './chat-run';
import { bearerKey, bindToConnection, bodyErrors, JOB_ID_HEADER, jsonBodies, parseBody } from './common';
import { chatFromOllama, ollamaChatBody, ollamaGenerateBody } from './input';
import { InvalidRequest, refusalOf } from './refusal';

/** The Ollama release whose wire this API follows (tests/ollama/wire-facts.md); clients gate features on it. */
export const OLLAMA_WIRE_VERSION = '0.17.4';

function reply(res: Response, error: unknown): void {
  const refusal = refusalOf(error);
  if (refusal.retryAfter !== null) res.set('Retry-After', String(refusal.retryAfter));
  res.status(refusal.status).json({ error: refusal.message });
}

const details = { parent_model: '', format: '', family: '', families: null, parameter_size: '', quantization_level: '' };
const tagOf = (m: ApiModel) => ({ name: m.name, model: m.name, modified_at: m.modifiedAt.toISOString(), size: m.sizeBytes, digest: '', details });

/** Ollama's final-chunk metrics; like Ollama, zero values are left out. */
function metrics(outcome: ChatOutcome, startedAt: bigint) {
  const fields = { total_duration: Number(process.hrtime.bigint() - startedAt), prompt_eval_count: outcome.promptTokens, eval_count: outcome.completionTokens };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value > 0));
}

/**
 * Ollama's API (`/ollama/api/...`), for tools configured with an Ollama host: point them at
 * `<switchyard>/ollama` and give them a key as a bearer token. Chat and generate are jobs of the
 * key's team like every other request; tags and ps list what the team's tier can use.
 */
export function ollamaRouter(services: Services) {
  const router = express.Router();
  const authenticate = (req: Request) => services.apiKeys.authenticate(bearerKey(req));

  router.get('/api/version', (_req, res) => {
    res.json({ version: OLLAMA_WIRE_VERSION });
  });

  router.get('/api/tags', async (req, res) => {
    try {
      const caller = await authenticate(req);
      res.json({ models: (await services.apiModels.list(caller.team.tier)).map(tagOf) });
    } catch (error) {
      reply(res, error);
    }
  });

  router.get('/api/ps', async (req, res) => {
    try {
      const caller = await authenticate(req);
      const loaded = await services.apiModels.loaded(caller.team.tier);
      res.json({
        models: loaded.map((m) => ({
          ...tagOf(m),
          expires_at: (m.expiresAt ?? new Date('2318-01-01T00:00:00Z')).toISOString(),
          size_vram: 0,
          context_length: m.contextLength,
        })),
      });
    } catch (error) {
      reply(res, error);
    }
  });

  /**
   * One chat as NDJSON (or one object): `piece` shapes a chunk's text (`message` for chat,
   * `response` for generate), as the two endpoints differ only there.
   */
  async function answer(req: Request, res: Response, parse: () => { model: string; stream: boolean; chat: ChatRequest }, piece: (text: string) => object) {
    const startedAt = process.hrtime.bigint();
    const jobId = randomUUID();
    let model = '';
    let streaming = false;
    const line = (data: object) => {
      if (!res.headersSent) res.status(200).set('Content-Type', 'application/x-ndjson').flushHeaders();
      res.write(`${JSON.stringify(data)}\n`);
    };
    try {
      const caller = await authenticate(req);
      const { model: asked, stream, chat } = parse();
      model = asked;
      streaming = stream;
      res.set(JOB_ID_HEADER, jobId);
      const created_at = () => new Date().toISOString();
      const run = await startChat(services, { caller, jobId, model, chat }, { onText: (text) => streaming && line({ model, created_at: created_at(), ...piece(text), done: false }) });
      const connection = bindToConnection(res, run);
      const outcome = await run.finish().finally(() => connection.settle());
      const final = { model, created_at: created_at(), ...piece(streaming ? '' : outcome.text), done: true, done_reason: outcome.truncated ? 'length' : 'stop', ...metrics(outcome, startedAt) };
      if (streaming) {
        line(final);
        res.end();
      } else {
        res.json(final);
      }
    } catch (error) {
      if (res.closed || res.destroyed) return;
      if (!res.headersSent) return reply(res, error);
      // Mid-stream, Ollama reports an error as a line of its own.
      line({ error: refusalOf(error).message });
      res.end();
    }
  }

  router.post('/api/chat', jsonBodies, (req, res) =>
    answer(
      req,
      res,
      () => {
        const body = parseBody(ollamaChatBody, req.body);
        return { model: body.model, stream: body.stream !== false, chat: chatFromOllama(body.messages, body.options) };
      },
      (text) => ({ message: { role: 'assistant', content: text } }),
    ),
  );

  router.post('/api/generate', jsonBodies, (req, res) =>
    answer(
      req,
      res,
      () => {
        const body = parseBody(ollamaGenerateBody, req.body);
        if (!body.prompt) throw new InvalidRequest('prompt is required (Switchyard loads models itself).', 'prompt');
        const messages: ChatRequest['messages'] = [...(body.system ? [{ role: 'system' as const, content: body.system }] : []), { role: 'user', content: body.prompt }];
        return { model: body.model, stream: body.stream !== false, chat: chatFromOllama(messages, body.options) };
      },
      (text) => ({ response: text }),
    ),
  );

  router.use(bodyErrors(reply));
  router.use((req, res) => reply(res, new NotFoundError(`${req.method} /ollama${req.path}`)));
  return router;
}
