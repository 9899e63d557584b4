import { io as connectClient } from 'socket.io-client';
import { freePort } from '../../scripts/lib/ports';
import { answerDigest, createSimulator, type Simulator, type SimulatorOptions } from '../../simulator';
import { schedulerWorkflowId, statusQuery } from '../../workflows/scheduler/api';
import type { AppSocket } from './app-stack';
import { createPrisma } from '../../server/db/client';
import type { PrismaClient } from '../../server/generated/prisma/client';
import { connectTemporal, temporalAddress, temporalNamespace, uniqueTaskQueue, type TestTemporal } from './temporal';
import { startEntry, type EntryProcess } from './web-process';
import { until } from './until';

export interface ProcessStackOptions {
  databaseUrl: string;
  webs: number;
  workers: number;
  /** One simulated Ollama backend per entry, in the pool "local". */
  simulators: Partial<SimulatorOptions>[];
  /** Slots of each backend as the scheduler sees them. */
  slots: number;
  /** REDIS_URL for the Socket.IO adapter (unset: the PostgreSQL adapter). */
  redisUrl?: string;
  /** Another Temporal server than the run's shared one. */
  temporalAddress?: string;
}

export interface WebEntry {
  url: string;
  process: EntryProcess;
}

/**
 * Several web (`server/main.ts`) and worker (`server/worker.ts`) processes on one task queue, one
 * database and one Temporal server, as a deployment runs them: each a real process that a test may
 * SIGKILL. Clients talk to them over HTTP and Socket.IO only, like browsers.
 */
export async function startProcessStack(options: ProcessStackOptions) {
  const sims: Simulator[] = await Promise.all(options.simulators.map((sim) => createSimulator(sim)));
  const address = options.temporalAddress ?? temporalAddress();
  const taskQueue = uniqueTaskQueue('processes');
  const env = {
    NODE_ENV: 'test' as const,
    DATABASE_URL: options.databaseUrl,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: temporalNamespace(),
    TEMPORAL_TASK_QUEUE: taskQueue,
    SESSION_SECRET: 'process-stack-session-secret-of-32-chars',
    OLLAMA_URL: sims.map((sim) => sim.url).join(','),
    OLLAMA_SLOTS: String(options.slots),
    BACKEND_REFRESH_MS: '1000',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
  };
  const webs: WebEntry[] = [];
  const workers: EntryProcess[] = [];
  const sockets: AppSocket[] = [];
  const prisma: PrismaClient = createPrisma(options.databaseUrl);
  let temporal: TestTemporal | undefined;

  async function startWorker(): Promise<EntryProcess> {
    const worker = startEntry('server/worker.ts', env);
    workers.push(worker);
    await worker.waitFor(/worker ready/, 240_000);
    return worker;
  }
  async function startWeb(): Promise<WebEntry> {
    const port = await freePort();
    const web = { url: `http://127.0.0.1:${port}`, process: startEntry('server/main.ts', { ...env, PORT: String(port) }) };
    webs.push(web);
    await web.process.waitFor(/web listening on/, 240_000);
    // In tests the web process builds its pages through Vite on the first request, which stalls
    // it for seconds on a busy machine: long enough for the PostgreSQL adapter of the other
    // processes to count it as gone (no heartbeat for 10 s) and leave its sockets out of presence.
    await fetch(`${web.url}/login`);
    return web;
  }

  async function stop() {
    for (const socket of sockets) socket.close();
    await Promise.all([...webs.map((web) => web.process.stop()), ...workers.map((worker) => worker.stop())]);
    await Promise.all(sims.map((sim) => sim.close()));
    await temporal?.close();
    await prisma.$disconnect();
  }

  try {
    // Workers first, one after the other: each bootstraps the backends and the scheduler.
    for (let i = 0; i < options.workers; i++) await startWorker();
    await Promise.all(Array.from({ length: options.webs }, startWeb));
    temporal = await connectTemporal(address);
  } catch (error) {
    await stop();
    throw error;
  }
  const client = temporal;

  return {
    prisma,
    sims,
    taskQueue,
    webs,
    workers,
    startWorker,
    startWeb,
    temporal: client,

    /** Signs in through a web process's login form; the session cookie works on every web process. */
    async signIn(web: WebEntry, email: string, password: string): Promise<string> {
      const response = await fetch(`${web.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { origin: web.url },
        body: new URLSearchParams({ email, password }),
      });
      const cookie = response.headers.get('set-cookie')?.split(';')[0];
      if (!cookie) throw new Error(`signing in as ${email} failed (${response.status})`);
      return cookie;
    },

    /** A tRPC call over HTTP as a browser makes it: the status and the parsed body. */
    async trpc(web: WebEntry, cookie: string, procedure: string, input: unknown, method: 'GET' | 'POST' = 'POST') {
      const body = JSON.stringify({ json: input });
      const response =
        method === 'GET'
          ? await fetch(`${web.url}/trpc/${procedure}?input=${encodeURIComponent(body)}`, { headers: { origin: web.url, cookie } })
          : await fetch(`${web.url}/trpc/${procedure}`, { method, headers: { origin: web.url, cookie, 'content-type': 'application/json' }, body });
      return { status: response.status, body: (await response.json()) as { result?: { data: { json: unknown } }; error?: unknown } };
    },

    /** A Socket.IO client on one web process, signed in by its cookie; it does not reconnect by itself. */
    async connect(web: WebEntry, cookie: string): Promise<AppSocket> {
      const socket: AppSocket = connectClient(web.url, { transports: ['websocket'], extraHeaders: { origin: web.url, cookie }, reconnection: false });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return socket;
    },

    /** The scheduler's leases and waiting jobs, once both are zero (every slot back); fails after the deadline. */
    async untilSlotsFree(timeoutMs = 120_000) {
      const scheduler = client.client.workflow.getHandle(schedulerWorkflowId(taskQueue));
      return until(
        async () => {
          const status = await scheduler.query(statusQuery).catch(() => null);
          return status && status.leases.length === 0 && status.waiting === 0 && status;
        },
        'every slot to be free',
        timeoutMs,
      );
    },

    /**
     * Whether `text` is a whole answer of one of the simulators (nothing lost or written twice
     * across cuts, resumes and restarts), compared with their deterministic answers.
     */
    isWholeAnswer(text: string): boolean {
      const digest = answerDigest(text);
      return sims.some((sim) => sim.requests().some((request) => request.answerDigest === digest));
    },

    stop,
  };
}

export type ProcessStack = Awaited<ReturnType<typeof startProcessStack>>;
