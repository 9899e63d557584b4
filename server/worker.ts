import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createActivities } from '../activities';
import { getPrisma } from './db/client';
import { loadOrExit, loadServerEnv, resourceConfig } from './env';
import { createBackends } from './llm/config';
import { createPublisher } from './realtime/publisher';
import { ensureResourceManager } from './temporal/resource-manager';
import { registerBackends } from './services/backends';
import { createCatalogLookup } from './services/catalog-lookup';
import { ensureScheduler } from './temporal/scheduler';
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
const configured = createBackends({
  ollamaUrls: env.OLLAMA_URL,
  ...(env.OPENAI_API_KEY ? { openai: { baseURL: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY } } : {}),
});
// createBackends keeps the configuration's order: the Ollama URLs, then the cloud endpoint.
await registerBackends(
  prisma,
  configured.map((backend, i) =>
    backend.kind === 'ollama'
      ? { backend, url: env.OLLAMA_URL[i]!, pool: 'local', slots: env.OLLAMA_SLOTS, prefetch: env.OLLAMA_PREFETCH }
      : { backend, url: env.OPENAI_BASE_URL, pool: 'cloud', slots: env.OPENAI_MAX_CONCURRENCY },
  ),
);
const backends = new Map(configured.map((backend) => [backend.id, backend]));
const client = new Client({
  connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }),
  namespace: env.TEMPORAL_NAMESPACE,
});
const workers = await createJobWorkers({
  connection,
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
    temporal: client,
    startScheduler: (taskQueue) => ensureScheduler(client, prisma, taskQueue),
    ...(env.SCALE_HOOK_COMMAND ? { scaleHook: { command: env.SCALE_HOOK_COMMAND, timeoutMs: env.SCALE_HOOK_TIMEOUT_MS } } : {}),
  }),
  shutdownGraceTime: '10 seconds',
});
await ensureScheduler(client, prisma, env.TEMPORAL_TASK_QUEUE);
await ensureResourceManager(client, env.TEMPORAL_TASK_QUEUE, resourceConfig(env));
console.log(`worker ready (task queues ${env.TEMPORAL_TASK_QUEUE} and ${schedulerTaskQueue(env.TEMPORAL_TASK_QUEUE)})`);
try {
  await workers.run();
} finally {
  await connection.close();
  await client.connection.close();
  await publisher.close();
  await prisma.$disconnect();
}
