import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';

/** Forms, sign-in, every tRPC call but a job's submission: a page of text is far below this. */
export const DEFAULT_BODY_LIMIT = 256 * 1024;

export interface BodyRefusal {
  status: 411 | 413;
  message: string;
}

const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`);

/**
 * Whether a request's body may be read, from its headers alone. A body must declare its length:
 * Node's parser never hands on more bytes than Content-Length says, so a declared length within
 * the limit bounds what anything downstream (`request.formData()`, tRPC's JSON parse) can buffer.
 * Browsers always declare it for forms and fetch; a chunked body of unknown size is refused.
 */
export function bodyRefusal(headers: IncomingHttpHeaders, limit: number): BodyRefusal | null {
  const declared = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined) return { status: 411, message: 'Send the request body with a Content-Length header.' };
  if (declared === undefined) return null;
  const length = Number(declared);
  if (!Number.isSafeInteger(length)) return { status: 411, message: 'Send the request body with a Content-Length header.' };
  if (length > limit) return { status: 413, message: `The request is too large: at most ${size(limit)}.` };
  return null;
}

/**
 * Refuses a body over `limit` before any of it is read. The connection is closed with the answer,
 * so a client still sending megabytes is cut off instead of being read to the end.
 */
export function capBodies(limit: number): RequestHandler {
  return (req, res, next) => {
    const refusal = bodyRefusal(req.headers, limit);
    if (!refusal) return next();
    res.set('Connection', 'close').status(refusal.status).type('text/plain').send(refusal.message);
  };
}
