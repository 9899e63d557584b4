import type { Services } from '../server/services';

declare module '@remix-run/node' {
  interface AppLoadContext {
    services: Services;
    /** The HTTP client's address (the socket's peer). */
    clientIp: string;
  }
}
