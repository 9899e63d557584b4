import { createServer } from 'node:http';
import path from 'node:path';
import { createKeyring, parseKeyList } from './crypto/keyring';
import { getPrisma } from './db/client';
import { loadOrExit, loadServerEnv, tracingConfig } from './env';
import { createApp } from './http/app';
import { announce, startProcessLogger } from './log';
import { createUrlAllowlist, WEBHOOK_URLS } from './net/allowlist';
import { createRealtimeServer } from './realtime/io';
import { createServices } from './services';
import { createTemporalProvider } from './temporal/client';
import { createEncryptionCodec } from './temporal/codec';

const env = loadOrExit(() => loadServerEnv());
const log = startProcessLogger('web', env);
// Before the clients it instruments are made; without an endpoint not even loaded.
const tracingSettings = tracingConfig(env, 'web');
const tracing = tracingSettings && (await import('./tracing/sdk')).startTracing(tracingSettings);
const prisma = getPrisma(env);
// One keyring seals secrets at rest and Temporal payloads.
const keyring = createKeyring(parseKeyList(env.ENCRYPTION_KEYS));
const codec = createEncryptionCodec(keyring);
const temporal = createTemporalProvider({
  address: env.TEMPORAL_ADDRESS,
  namespace: env.TEMPORAL_NAMESPACE,
  taskQueue: env.TEMPORAL_TASK_QUEUE,
  dataConverter: { payloadCodecs: [codec] },
  interceptors: tracing?.clientInterceptors,
});
const services = createServices({
  prisma,
  temporal,
  sessionSecret: env.SESSION_SECRET,
  defaultModel: env.DEFAULT_MODEL,
  temporalUiUrl: env.TEMPORAL_UI_URL,
  maxTeamsPerUser: env.MAX_TEAMS_PER_USER,
  maxWaitingJobs: env.MAX_WAITING_JOBS,
  keyring,
  backendUrls: createUrlAllowlist(env.BACKEND_URL_ALLOWLIST),
  webhookUrls: createUrlAllowlist(env.WEBHOOK_URL_ALLOWLIST, { purpose: WEBHOOK_URLS }),
});

const httpServer = createServer();
const production = env.NODE_ENV === 'production';
// Vite's HMR websocket shares the app's port, so several dev servers can run side by side.
const vite = production
  ? undefined
  : await import('vite').then((v) =>
      v.createServer({ server: { middlewareMode: true, hmr: { server: httpServer } }, appType: 'custom' }),
    );
const build = production ? await import(path.resolve('build/server/index.js')) : undefined;
httpServer.on(
  'request',
  createApp({
    services,
    log,
    tracing: tracing !== undefined,
    vite,
    build,
    clientAssetsDir: path.resolve('build/client'),
    metricsToken: env.METRICS_TOKEN,
    maxWaitingJobs: env.MAX_WAITING_JOBS,
    production,
    trustProxy: env.TRUST_PROXY,
    publicUrl: env.PUBLIC_URL,
    temporalCodec: { codec, uiUrl: env.TEMPORAL_UI_URL },
    backendRegistrationToken: env.BACKEND_REGISTRATION_TOKEN,
  }),
);
const realtime = await createRealtimeServer(httpServer, {
  services,
  log,
  databaseUrl: env.DATABASE_URL,
  redisUrl: env.REDIS_URL,
  publicUrl: env.PUBLIC_URL,
});

httpServer.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EADDRINUSE') {
    log.fatal(`port ${env.PORT} is in use; set PORT to another port`);
  } else {
    log.fatal({ err: error }, `cannot listen on ${env.HOST}:${env.PORT}`);
  }
  process.exit(1);
});
httpServer.listen(env.PORT, env.HOST, () => {
  announce(log, `web listening on http://${env.HOST}:${env.PORT}`);
});

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  httpServer.closeAllConnections();
  await realtime.close();
  await vite?.close();
  await temporal.close();
  await prisma.$disconnect();
  await tracing?.shutdown();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
