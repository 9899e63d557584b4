import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';

export interface SecurityHeaderOptions {
  /** Development: Vite injects each stylesheet as an inline <style> and the error overlay styles itself. */
  development: boolean;
  /** The app is configured for https (PUBLIC_URL): HSTS even when a proxy terminates TLS. */
  https: boolean;
}

/**
 * Headers for every response. Scripts run only from this origin or with the request's nonce
 * (Remix inlines its hand-off and route imports; app/entry.server.tsx and root.tsx put the nonce on
 * them), no page may frame ours, and browsers neither sniff types nor leak paths to other sites.
 * The nonce is in `res.locals.cspNonce` for the Remix render.
 */
export function securityHeaders({ development, https }: SecurityHeaderOptions): RequestHandler {
  return (req, res, next) => {
    const nonce = randomBytes(16).toString('base64');
    res.locals.cspNonce = nonce;
    const policy = [
      "default-src 'self'",
      `script-src 'self' 'nonce-${nonce}'`,
      `style-src 'self'${development ? " 'unsafe-inline'" : ''}`,
      "img-src 'self' data:",
      "font-src 'self'",
      // 'self' covers the Socket.IO and Vite HMR websockets on this origin.
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ];
    res.set({
      'Content-Security-Policy': policy.join('; '),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
    });
    if (https || req.secure) res.set('Strict-Transport-Security', 'max-age=31536000');
    next();
  };
}
