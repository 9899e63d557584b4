import type { IncomingHttpHeaders } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';

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

/** How long the rest of a refused body may keep arriving (dropped as it comes) before the connection is cut. */
const LINGER_MS = 5_000;

/**
 * Call before answering a refusal. Node drops the unread rest of the body after the answer (it is
 * never held); closing at once instead would reset the connection while the client still sends,
 * and it might never see the answer. A client still sending after LINGER_MS is cut off.
 */
export function dropRestOfBody(req: Request, res: Response): void {
  res.once('finish', () => {
    if (req.complete) return;
    const cut = setTimeout(() => req.socket.destroy(), LINGER_MS);
    cut.unref();
    req.once('end', () => clearTimeout(cut));
  });
}

/** Refuses a body over `limit` before any of it is read. */
export function capBodies(limit: number): RequestHandler {
  return (req, res, next) => {
    const refusal = bodyRefusal(req.headers, limit);
    if (!refusal) return next();
    dropRestOfBody(req, res);
    res.status(refusal.status).type('text/plain').send(refusal.message);
  };
}
