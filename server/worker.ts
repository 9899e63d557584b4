import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Runtime } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createActivities } from '../activities';
import { createKeyring, parseKeyList } from './crypto/keyring';
import { getPrisma } from './db/client';
import { loadOrExit, loadServerEnv, resourceConfig, tracingConfig } from './env';
import { announce, startProcessLogger } from './log';
import { temporalLogger } from './log/temporal';
import { prebuiltWorkflowBundle } from './temporal/bundles';
import { envBackends } from './llm/config';
import { createLiveRegistry } from './llm/live-registry';
import { createPublisher } from './realtime/publisher';
import { createUrlAllowlist, WEBHOOK_URLS } from './net/allowlist';
import { ensureResourceManager } from './temporal/resource-manager';
import { backendCatalogue, bootstrapBackends } from './services/backends';
import { createCatalogLookup } from './services/catalog-lookup';
import { createJobMetrics } from './metrics/jobs';
import { createProcessRegistry } from './metrics/registry';
import { serveMetrics } from './metrics/serve';
import { ensureScheduler } from './temporal/scheduler';
import { createEncryptionCodec } from './temporal/codec';
import { createJobWorkers } from './temporal/workers';
import { schedulerTaskQueue } from '../workflows/scheduler/api';

const env = loadOrExit(() => loadServerEnv());
const log = startProcessLogger('worker', env);
// Before anything touches the runtime: the SDK's lines, the workflows' and activities' `log`, and
// core's own (forwarded from warnings up) all go through the process's logger.
Runtime.install({
  logger: temporalLogger(log),
  telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
});
// Before the clients it instruments are made; without an endpoint not even loaded (no interceptors, the plain bundle).
const tracingSettings = tracingConfig(env, 'worker');
const tracing = tracingSettings && (await import('./tracing/sdk')).startTracing(tracingSettings);
const bundlePath = path.resolve(prebuiltWorkflowBundle(tracing !== undefined));
const here = path.dirname(fileURLToPath(import.meta.url));

async function connect(): Promise<NativeConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
    } catch (error) {
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      log.warn(`Temporal at ${env.TEMPORAL_ADDRESS} is unreachable (${(error as Error).message}); retrying in ${delay / 1000}s`);
      await sleep(delay);
    }
  }
}

const connection = await connect();
const prisma = getPrisma(env);
const publisher = await createPublisher({ databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL });
const keyring = createKeyring(parseKeyList(env.ENCRYPTION_KEYS));
// The environment's backends seed a fresh install; the stored rows are the configuration after that.
await bootstrapBackends(
  prisma,
  keyring,
  envBackends({
    ollamaUrls: env.OLLAMA_URL,
    ollama: { slots: env.OLLAMA_SLOTS, ...(env.OLLAMA_PREFETCH === undefined ? {} : { prefetch: env.OLLAMA_PREFETCH }) },
    ...(env.OPENAI_API_KEY ? { openai: { baseURL: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY, slots: env.OPENAI_MAX_CONCURRENCY } } : {}),
  }),
);
const backends = await createLiveRegistry({
  prisma,
  keyring,
  refreshMs: env.BACKEND_REFRESH_MS,
  streamIdleMs: env.LLM_STREAM_IDLE_MS,
  onError: (err) => log.warn({ err }, 'reading the backends failed; the clients it had stay in use'),
});
const metrics = createJobMetrics(createProcessRegistry());
const metricsServer =
  env.WORKER_METRICS_PORT === undefined
    ? undefined
    : await serveMetrics(metrics.registry, { host: env.HOST, port: env.WORKER_METRICS_PORT, token: env.METRICS_TOKEN, production: env.NODE_ENV === 'production' });
const dataConverter = { payloadCodecs: [createEncryptionCodec(keyring)] };
const client = new Client({
  connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }),
  namespace: env.TEMPORAL_NAMESPACE,
  dataConverter,
  interceptors: tracing?.clientInterceptors,
});
const workers = await createJobWorkers({
  connection,
  dataConverter,
  namespace: env.TEMPORAL_NAMESPACE,
  taskQueue: env.TEMPORAL_TASK_QUEUE,
  cachedWorkflows: env.WORKER_CACHED_WORKFLOWS,
  // Built once for both workers.
  workflowBundle:
    env.NODE_ENV === 'production' && existsSync(bundlePath)
      ? { codePath: bundlePath }
      : await bundleWorkflowCode({
          workflowsPath: path.resolve(here, '../workflows/index.ts'),
          workflowInterceptorModules: tracing?.workflowInterceptorModules,
          logger: Runtime.instance().logger,
        }),
  ...(tracing ? { interceptors: tracing.workerInterceptors, sinks: tracing.sinks } : {}),
  activities: createActivities({
    prisma,
    publisher,
    backends,
    catalog: createCatalogLookup(prisma),
    metrics,
    temporal: client,
    startScheduler: (taskQueue) => ensureScheduler(client, prisma, taskQueue),
    backendCatalogue: () => backendCatalogue(prisma),
    keyring,
    webhookUrls: createUrlAllowlist(env.WEBHOOK_URL_ALLOWLIST, { purpose: WEBHOOK_URLS }),
    ...(env.SCALE_HOOK_COMMAND ? { scaleHook: { command: env.SCALE_HOOK_COMMAND, timeoutMs: env.SCALE_HOOK_TIMEOUT_MS } } : {}),
  }),
  shutdownGraceTime: '10 seconds',
});
await ensureScheduler(client, prisma, env.TEMPORAL_TASK_QUEUE);
await ensureResourceManager(client, env.TEMPORAL_TASK_QUEUE, resourceConfig(env));
announce(
  log,
  `worker ready (task queues ${env.TEMPORAL_TASK_QUEUE} and ${schedulerTaskQueue(env.TEMPORAL_TASK_QUEUE)})${metricsServer ? `, metrics at ${metricsServer.url}` : ''}`,
);
try {
  await workers.run();
} finally {
  await metricsServer?.close();
  backends.close();
  await connection.close();
  await client.connection.close();
  await publisher.close();
  await prisma.$disconnect();
  await tracing?.shutdown();
}
