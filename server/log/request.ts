import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { getLogger, type Logger } from '.';

/**
 * A request id per HTTP request: the caller's `X-Request-Id` when it is a plausible id (a proxy's
 * or a client's, so their logs and ours join up), else a new one; echoed in the response and
 * carried by the request's child logger.
 */

export const REQUEST_ID_HEADER = 'x-request-id';
// Anything else (a newline, kilobytes) is not an id and must not reach a log line.
const PLAUSIBLE_ID = /^[\w.:@/+=-]{1,128}$/;

const loggers = new WeakMap<IncomingMessage, Logger>();

export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && PLAUSIBLE_ID.test(incoming) ? incoming : randomUUID();
}

/** The request's child logger (the process's logger for a request that did not pass `requestLogging`). */
export function requestLogger(req: IncomingMessage): Logger {
  return loggers.get(req) ?? getLogger();
}

// Assets and Vite's modules: dozens per page in development; seen only at debug.
const QUIET_PATHS = /^\/(assets|@|node_modules|app)\/|^\/(favicon|@vite)/;

export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const requestId = requestIdOf(req);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    const log = logger.child(traceId ? { requestId, traceId } : { requestId });
    loggers.set(req, log);
    const started = process.hrtime.bigint();
    // The path as the client sent it (routers rewrite req.path), without the query: it may carry tokens.
    const path = req.originalUrl.split('?')[0] ?? '';
    res.once('finish', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : QUIET_PATHS.test(path) ? 'debug' : 'info';
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log[level]({ method: req.method, path, status, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}
