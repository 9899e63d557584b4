import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { ChatRun } from './chat-run';
import { InvalidRequest, paramOf } from './refusal';

/** A long conversation fits; the tier's prompt limit, counted in characters, is the real bound. */
export const API_BODY_LIMIT = 4 * 1024 * 1024;

export const JOB_ID_HEADER = 'x-switchyard-job-id';

// Whatever the Content-Type says, as Ollama's server does (curl -d sends form encoding).
export const jsonBodies = express.json({ limit: API_BODY_LIMIT, type: () => true });

/** The key of `Authorization: Bearer <key>`. */
export function bearerKey(req: Request): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

/** The body as `schema` reads it, or an InvalidRequest naming the first field at fault. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new InvalidRequest(issue.message, paramOf(issue.path) || null);
}

/** Body-parser's refusals (bad JSON, too large) for the API's own error handler. */
export function bodyErrors(reply: (res: Response, error: unknown) => void): ErrorRequestHandler {
  return (error: { type?: string; status?: number }, _req, res, next) => {
    if (error.type === 'entity.parse.failed') return reply(res, new InvalidRequest('The request body is not valid JSON.'));
    if (error.type === 'entity.too.large') return reply(res, new InvalidRequest(`The request body is too large: at most ${API_BODY_LIMIT / 1024 / 1024} MB.`, null, 413));
    if (error.status && error.status < 500) return reply(res, new InvalidRequest('The request body cannot be read.'));
    next(error);
  };
}

/**
 * Ties a job to its client's connection: a connection closed before the answer is complete
 * cancels the job (its slot frees at once), whatever the API.
 */
export function bindToConnection(res: Response, run: ChatRun): { settle(): void } {
  let settled = false;
  const onClose = () => {
    if (!settled) run.abandon();
  };
  res.on('close', onClose);
  if (res.destroyed || res.closed) onClose();
  return {
    settle() {
      settled = true;
    },
  };
}
