import { getTRPCErrorShape, transformTRPCResponse, TRPCError } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { Request, RequestHandler, Response } from 'express';
import { readSessionToken } from '../auth/session';
import { requestLogger } from '../log/request';
import type { Services } from '../services';
import { MAX_REQUIREMENTS_CHARS } from '../trpc/routers/jobs';
import { REVIEW_LIMITS } from '../services/review-input';
import { appRouter } from '../trpc/root';
import { bodyRefusal, DEFAULT_BODY_LIMIT, dropRestOfBody } from './body-limit';

/** Enough for a page's worth of queries at once; a batch of a thousand would query Temporal a thousand times. */
export const MAX_BATCH_CALLS = 20;

/** A job's requirements at the longest, each character escaped as JSON at the widest (`\u0000`), and room for the rest. */
export const SUBMIT_BODY_LIMIT = MAX_REQUIREMENTS_CHARS * 6 + 64 * 1024;

/**
 * A review's files at their longest. Not × 6 as above: a browser's JSON escapes only quotes,
 * backslashes and control characters, which source code has few of, and the review's own
 * character limit is checked after parsing; × 2 covers heavily escaped code.
 */
export const REVIEW_BODY_LIMIT = REVIEW_LIMITS.maxTotalChars * 2 + REVIEW_LIMITS.maxFiles * 1024 + 64 * 1024;

/** The request's procedures, from its path (`/jobs.get,queue.get` for a batch). */
function callsOf(path: string): string[] {
  let decoded = path.slice(1);
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // tRPC answers a malformed path itself.
  }
  return decoded.split(',');
}

/** A refusal in tRPC's own response shape (through the app's error formatter), so clients show its message. */
function refuse(req: Request, res: Response, error: TRPCError): void {
  const config = appRouter._def._config;
  const shape = getTRPCErrorShape({ config, error, type: 'unknown', path: undefined, input: undefined, ctx: undefined });
  dropRestOfBody(req, res);
  res.status(getHTTPStatusCodeFromError(error)).json(transformTRPCResponse(config, { error: shape }));
}

/**
 * `/trpc`, with its limits checked from the URL and headers before a byte of the body is read:
 * at most MAX_BATCH_CALLS calls per batch, DEFAULT_BODY_LIMIT per body (SUBMIT_BODY_LIMIT when a
 * job's requirements are in it).
 */
export function trpcHandler(services: Services): RequestHandler {
  const handle = createExpressMiddleware({
    router: appRouter,
    maxBatchSize: MAX_BATCH_CALLS,
    // The client was told only that something went wrong (error-shape.ts); the log gets the cause.
    onError: ({ error, path, req }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') requestLogger(req).error({ err: error.cause ?? error, procedure: path }, 'tRPC procedure failed');
    },
    createContext: async ({ req }) => ({
      services,
      user: await services.sessions.getUser(readSessionToken(req.headers.cookie)),
    }),
  });
  return (req, res, next) => {
    const calls = callsOf(req.path);
    if (calls.length > MAX_BATCH_CALLS) {
      return refuse(req, res, new TRPCError({ code: 'BAD_REQUEST', message: `Too many calls in one batch: at most ${MAX_BATCH_CALLS}.` }));
    }
    const limit = calls.includes('reviews.submit') ? REVIEW_BODY_LIMIT : calls.includes('jobs.submit') ? SUBMIT_BODY_LIMIT : DEFAULT_BODY_LIMIT;
    const refusal = bodyRefusal(req.headers, limit);
    if (refusal) return refuse(req, res, new TRPCError({ code: refusal.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', message: refusal.message }));
    handle(req, res, next);
  };
}
