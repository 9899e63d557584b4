import { Worker } from '@temporalio/worker';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as connectClient, type Socket } from 'socket.io-client';
import { createActivities } from '../../activities';
import { createPrisma } from '../../server/db/client';
import { createBackends } from '../../server/llm/config';
import { ensureScheduler, registerBackends } from '../../server/scheduler/setup';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/realtime/events';
import { createRealtimeServer } from '../../server/realtime/io';
import { createPublisher } from '../../server/realtime/publisher';
import { createServices } from '../../server/services';
import { createTemporalProvider } from '../../server/temporal/client';
import { createCaller } from '../../server/trpc/root';
import { SESSION_COOKIE, type SessionUser } from '../../server/auth/session';
import { uniqueTaskQueue, workflowBundle, type TestTemporal } from './temporal';

export type TestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * The job path without the browser: services and tRPC callers, a Socket.IO server on a free
 * port, a publisher on the same adapter, and a Temporal worker on its own task queue — the
 * same modules `server/main.ts` and `server/worker.ts` wire, against the run's PostgreSQL and
 * Temporal dev server.
 */
export interface JobStackOptions {
  databaseUrl: string;
  temporal: TestTemporal;
  /** Ollama-compatible servers (simulators); registered as the pool "local". */
  ollamaUrls: string[];
  /** Slots of each backend as the scheduler sees them. */
  slots?: number;
  /** How often the scheduler reclaims leases of finished workflows. */
  leaseCheckMs?: number;
  /** false: no in-process worker until `startWorker()` (tests that bring their own first). */
  worker?: boolean;
}

export async function startJobStack(options: JobStackOptions) {
  const { databaseUrl, temporal } = options;
  const taskQueue = uniqueTaskQueue('jobs');
  const prisma = createPrisma(databaseUrl);
  const temporalProvider = createTemporalProvider({
    address: temporal.connection.options.address,
    namespace: temporal.namespace,
    taskQueue,
  });
  const services = createServices({
    prisma,
    temporal: temporalProvider,
    sessionSecret: 'test-session-secret-of-at-least-32-chars',
    defaultModel: 'qwen2.5-coder:7b',
    temporalUiUrl: 'http://localhost:8233',
  });

  const httpServer = createServer();
  const realtime = await createRealtimeServer(httpServer, { services, databaseUrl });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;

  const publisher = await createPublisher({ databaseUrl });
  const configured = createBackends({ ollamaUrls: options.ollamaUrls });
  await registerBackends(
    prisma,
    configured.map((backend, i) => ({ backend, url: options.ollamaUrls[i]!, pool: 'local', slots: options.slots ?? 4 })),
  );
  const backends = new Map(configured.map((backend) => [backend.id, backend]));
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  async function startWorker() {
    if (worker) return;
    worker = await Worker.create({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities({ prisma, publisher, backends, temporal: temporal.client }),
      maxHeartbeatThrottleInterval: '500 milliseconds',
    });
    running = worker.run();
    await configureScheduler();
  }
  const configureScheduler = () =>
    ensureScheduler(temporal.client, prisma, taskQueue, { leaseCheckMs: options.leaseCheckMs });
  if (options.worker !== false) await startWorker();
  const sockets: TestSocket[] = [];

  return {
    prisma,
    services,
    taskQueue,
    url,
    startWorker,
    /** Hands the scheduler the tiers and enabled backends now in the database. */
    configureScheduler,
    /** The backend ids the scheduler grants, in the order of `ollamaUrls`. */
    backendIds: configured.map((backend) => backend.id),

    async signIn(email: string, password: string) {
      const { token } = await services.auth.signIn(email, password);
      const user = (await services.sessions.getUser(token)) as SessionUser;
      return { user, token, caller: createCaller({ services, user }) };
    },

    /** A real Socket.IO client, authenticated by the session cookie like a browser. */
    async connect(token: string): Promise<TestSocket> {
      const socket: TestSocket = connectClient(url, {
        transports: ['websocket'],
        extraHeaders: { cookie: `${SESSION_COOKIE}=${token}` },
        reconnection: false,
      });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return socket;
    },

    async stop() {
      for (const socket of sockets) socket.close();
      worker?.shutdown();
      await running;
      await publisher.close();
      await realtime.close();
      await temporalProvider.close();
      await prisma.$disconnect();
    },
  };
}

export type JobStack = Awaited<ReturnType<typeof startJobStack>>;
