import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { readSessionToken } from '../auth/session';

function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

/**
 * Whether a request comes from one of our own pages: its Origin (or, from browsers that send
 * none, its Referer) names this host — the host of PUBLIC_URL when configured, else the Host
 * header. `Origin: null` (sandboxed frames, some redirects) is foreign. Undefined: the request
 * names no origin at all.
 */
export function fromOwnPage(headers: IncomingHttpHeaders, publicHost: string | undefined): boolean | undefined {
  const source = headers.origin ?? headers.referer;
  if (source === undefined) return undefined;
  return hostOf(source) === (publicHost ?? headers.host);
}

/**
 * Refuses state-changing requests sent by another site. Session cookies are SameSite=Lax as
 * well; this covers the requests Lax alone would let through (same-site subdomains, old browsers).
 * A request naming no origin is not from a current browser's page; it may go on only without the
 * session cookie, so it acts as nobody (scripts, health checks, sign-in from a tool).
 */
export function requireSameOrigin(publicHost: string | undefined): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const own = fromOwnPage(req.headers, publicHost);
    if (own === true) return next();
    if (own === undefined && readSessionToken(req.headers.cookie) === undefined) return next();
    res.status(403).json({ error: own === false ? 'cross-site request refused' : 'a signed-in request must name its Origin' });
  };
}
