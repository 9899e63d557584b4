import type { RequestHandler } from 'express';

/**
 * Refuses state-changing requests sent by another site. Session cookies are SameSite=Lax as
 * well; this covers the requests Lax alone would let through (same-site subdomains, old browsers).
 */
export const requireSameOrigin: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
  const origin = req.headers.origin;
  if (!origin || hostOf(origin) === req.headers.host) return next();
  res.status(403).json({ error: 'cross-site request refused' });
};

function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
