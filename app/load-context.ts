import type { Services } from '../server/services';
import type { Logger } from '../server/log';

declare module '@remix-run/node' {
  interface AppLoadContext {
    services: Services;
    /** The HTTP client's address (the socket's peer). */
    clientIp: string;
    /** This response's Content-Security-Policy nonce (server/http/security-headers.ts), for Remix's inline scripts. */
    cspNonce: string;
    /** Session cookies are `Secure`: the request came over https, or PUBLIC_URL is https. */
    secureCookies: boolean;
    /** The request's logger (its request id bound: server/log/request.ts). */
    log: Logger;
  }
}
