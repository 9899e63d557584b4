import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { tracer } from '.';

/**
 * A server span per HTTP request, continuing the caller's trace (`traceparent`); everything the
 * request does runs in its context. Mounted only when tracing is on. Manual rather than the http
 * instrumentation, which cannot patch `node:http` for ES modules without a loader hook.
 */
export function traceRequests(): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers);
    // The path as sent, without the query (it may carry tokens).
    const path = req.originalUrl.split('?')[0] ?? '';
    const span = tracer().startSpan(
      `${req.method} ${path}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': path } },
      parent,
    );
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
