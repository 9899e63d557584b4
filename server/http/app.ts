import { createRequestHandler } from '@remix-run/express';
import type { ServerBuild } from '@remix-run/node';
import type { PayloadCodec } from '@temporalio/common';
import compression from 'compression';
import express from 'express';
import type { ViteDevServer } from 'vite';
import type { Logger } from '../log';
import { requestLogger, requestLogging } from '../log/request';
import type { Services } from '../services';
import { traceRequests } from '../tracing/http';
import { apiRouter } from './api';
import { capBodies, DEFAULT_BODY_LIMIT } from './body-limit';
import { requireSameOrigin } from './origin-check';
import { checkHealth } from './health';
import { metricsHandler } from './metrics';
import { securityHeaders } from './security-headers';
import { temporalCodecHandler } from './temporal-codec';
import { trpcHandler } from './trpc';
import { usageExportHandler } from './usage-export';

export interface AppOptions {
  services: Services;
  /** Parent of every request's logger. */
  log: Logger;
  /** A span per request (OTEL_EXPORTER_OTLP_ENDPOINT set). */
  tracing?: boolean;
  /** Development: Vite serves assets and compiles routes on demand. */
  vite?: ViteDevServer;
  /** Production: the output of `remix vite:build`. */
  build?: ServerBuild;
  clientAssetsDir?: string;
  /** Required as a bearer token by /metrics when set; production without one refuses /metrics. */
  metricsToken?: string | undefined;
  /** MAX_WAITING_JOBS, reported on /metrics for the alert on a filling queue. */
  maxWaitingJobs: number;
  production: boolean;
  /** Express's `trust proxy` (TRUST_PROXY): which forwarded client addresses to believe. */
  trustProxy?: number | string | undefined;
  /** BACKEND_REGISTRATION_TOKEN: enables POST /api/backends/register and /drain for bearers of it. */
  backendRegistrationToken?: string | undefined;
  /** PUBLIC_URL: the only origin state-changing requests may come from; https makes cookies Secure. */
  publicUrl?: string | undefined;
  /** The codec server for the Temporal UI: the payload codec, and the UI's URL (TEMPORAL_UI_URL) whose origin may call it. */
  temporalCodec: { codec: PayloadCodec; uiUrl: string };
}

export function createApp({ services, log, tracing = false, vite, build, clientAssetsDir, metricsToken, maxWaitingJobs, production, trustProxy, publicUrl, temporalCodec, backendRegistrationToken }: AppOptions) {
  const app = express();
  const configuredHttps = publicUrl !== undefined && new URL(publicUrl).protocol === 'https:';
  app.disable('x-powered-by');
  if (trustProxy !== undefined) app.set('trust proxy', trustProxy);
  // Tracing first, so the request's log lines can name its trace.
  if (tracing) app.use(traceRequests());
  app.use(requestLogging(log));
  app.use(apiRouter(services, { backendRegistrationToken }));
  app.use(securityHeaders({ development: vite !== undefined, https: configuredHttps }));
  app.use(compression());
  // Before the same-origin check: the Temporal UI calls it from its own origin, under its own CORS rule.
  app.use('/api/temporal-codec', temporalCodecHandler({ sessions: services.sessions, codec: temporalCodec.codec, uiOrigin: new URL(temporalCodec.uiUrl).origin }));
  app.use(requireSameOrigin(publicUrl === undefined ? undefined : new URL(publicUrl).host));

  app.get('/healthz', async (_req, res) => {
    const health = await checkHealth(services);
    res.status(health.ok ? 200 : 503).json(health);
  });

  app.get('/metrics', metricsHandler(services, { token: metricsToken, production, maxWaitingJobs }));

  app.use('/trpc', trpcHandler(services));
  app.get('/usage.csv', usageExportHandler(services));

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
    capBodies(DEFAULT_BODY_LIMIT),
    createRequestHandler({
      build: remixBuild,
      getLoadContext: (req, res) => ({
        services,
        clientIp: req.ip ?? 'unknown',
        cspNonce: String(res.locals.cspNonce),
        secureCookies: configuredHttps || req.secure,
        log: requestLogger(req),
      }),
    }),
  );
  return app;
}
