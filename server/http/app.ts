import { createRequestHandler } from '@remix-run/express';
import type { ServerBuild } from '@remix-run/node';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import compression from 'compression';
import express from 'express';
import type { ViteDevServer } from 'vite';
import { readSessionToken } from '../auth/session';
import type { Services } from '../services';
import { appRouter } from '../trpc/root';
import { requireSameOrigin } from './origin-check';
import { checkHealth } from './health';
import { metricsHandler } from './metrics';

export interface AppOptions {
  services: Services;
  /** Development: Vite serves assets and compiles routes on demand. */
  vite?: ViteDevServer;
  /** Production: the output of `remix vite:build`. */
  build?: ServerBuild;
  clientAssetsDir?: string;
  /** Required as a bearer token by /metrics when set. */
  metricsToken?: string;
  /** Express's `trust proxy` (TRUST_PROXY): which forwarded client addresses to believe. */
  trustProxy?: number | string;
}

export function createApp({ services, vite, build, clientAssetsDir, metricsToken, trustProxy }: AppOptions) {
  const app = express();
  app.disable('x-powered-by');
  if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
  app.use(compression());
  app.use(requireSameOrigin);

  app.get('/healthz', async (_req, res) => {
    const health = await checkHealth(services);
    res.status(health.ok ? 200 : 503).json(health);
  });

  app.get('/metrics', metricsHandler(services, metricsToken));

  app.use(
    '/trpc',
    createExpressMiddleware({
      router: appRouter,
      createContext: async ({ req }) => ({
        services,
        user: await services.sessions.getUser(readSessionToken(req.headers.cookie)),
      }),
    }),
  );

  if (vite) {
    app.use(vite.middlewares);
  } else if (clientAssetsDir) {
    app.use('/assets', express.static(`${clientAssetsDir}/assets`, { immutable: true, maxAge: '1y' }));
    app.use(express.static(clientAssetsDir, { maxAge: '1h' }));
  }

  const remixBuild = vite
    ? () => vite.ssrLoadModule('virtual:remix/server-build') as Promise<ServerBuild>
    : build;
  if (!remixBuild) throw new Error('createApp needs either a Vite dev server or a Remix build');
  // Per-address limits (sign-up) key on this: the socket's peer unless trustProxy names the
  // proxies whose X-Forwarded-For to believe.
  app.all(
    '*',
    createRequestHandler({
      build: remixBuild,
      getLoadContext: (req) => ({ services, clientIp: req.ip ?? 'unknown' }),
    }),
  );
  return app;
}
