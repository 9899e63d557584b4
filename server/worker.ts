import { NativeConnection, Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createActivities } from '../activities';
import { createRoundRobinPicker } from './backend-picker';
import { getPrisma } from './db/client';
import { loadOrExit, loadServerEnv } from './env';
import { createBackends } from './llm/config';
import { createPublisher } from './realtime/publisher';

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

const prisma = getPrisma(env);
const publisher = await createPublisher({ databaseUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL });
const configured = createBackends({
  ollamaUrls: env.OLLAMA_URL,
  ...(env.OPENAI_API_KEY ? { openai: { baseURL: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY } } : {}),
});
const cloud = configured.find((b) => b.kind === 'openai');
const backends = createRoundRobinPicker({
  local: configured.filter((b) => b.kind === 'ollama'),
  cloud: cloud && { backend: cloud, model: env.OPENAI_MODEL },
});
const connection = await connect();
const worker = await Worker.create({
  connection,
  namespace: env.TEMPORAL_NAMESPACE,
  taskQueue: env.TEMPORAL_TASK_QUEUE,
  ...(env.NODE_ENV === 'production' && existsSync(bundlePath)
    ? { workflowBundle: { codePath: bundlePath } }
    : { workflowsPath: path.resolve(here, '../workflows/index.ts') }),
  activities: createActivities({ prisma, publisher, backends }),
  // Cancellation reaches an activity only through a heartbeat; keep that under a second.
  maxHeartbeatThrottleInterval: '500 milliseconds',
  shutdownGraceTime: '10 seconds',
});
console.log(`worker ready (task queue ${env.TEMPORAL_TASK_QUEUE})`);
try {
  await worker.run();
} finally {
  await connection.close();
  await publisher.close();
  await prisma.$disconnect();
}
