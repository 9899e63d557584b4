import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createActivities } from '../activities';
import { createKeyring, parseKeyList } from './crypto/keyring';
import { getPrisma } from './db/client';
import { loadOrExit, loadServerEnv, resourceConfig } from './env';
import { envBackends } from './llm/config';
import { createLiveRegistry } from './llm/live-registry';
import { createPublisher } from './realtime/publisher';
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
const here = path.dirname(fileURLToPath(import.meta.url));
const bundlePath = path.resolve('dist/workflow-bundle.js');

async function connect(): Promise<NativeConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
    } catch (error) {
      const delay = Math.min(30_000, 500 * 2 ** attempt);
      console.warn(
        `worker: Temporal at ${env.TEMPORAL_ADDRESS} is unreachable (${(error as Error).message}); retrying in ${delay / 1000}s`,
      );
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
  onError: (error) => console.warn(`worker: reading the backends failed (${(error as Error).message}); the clients it had stay in use`),
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
});
const workers = await createJobWorkers({
  connection,
  dataConverter,
  namespace: env.TEMPORAL_NAMESPACE,
  taskQueue: env.TEMPORAL_TASK_QUEUE,
  // Built once for both workers.
  workflowBundle:
    env.NODE_ENV === 'production' && existsSync(bundlePath)
      ? { codePath: bundlePath }
      : await bundleWorkflowCode({ workflowsPath: path.resolve(here, '../workflows/index.ts') }),
  activities: createActivities({
    prisma,
    publisher,
    backends,
    catalog: createCatalogLookup(prisma),
    metrics,
    temporal: client,
    startScheduler: (taskQueue) => ensureScheduler(client, prisma, taskQueue),
    backendCatalogue: () => backendCatalogue(prisma),
    ...(env.SCALE_HOOK_COMMAND ? { scaleHook: { command: env.SCALE_HOOK_COMMAND, timeoutMs: env.SCALE_HOOK_TIMEOUT_MS } } : {}),
  }),
  shutdownGraceTime: '10 seconds',
});
await ensureScheduler(client, prisma, env.TEMPORAL_TASK_QUEUE);
await ensureResourceManager(client, env.TEMPORAL_TASK_QUEUE, resourceConfig(env));
console.log(
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
}
