import { createServer } from 'node:http';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { io as connectClient, type Socket } from 'socket.io-client';
import { SESSION_COOKIE, type SessionUser } from '../../server/auth/session';
import { createKeyring, parseKeyList } from '../../server/crypto/keyring';
import { createPrisma } from '../../server/db/client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../server/realtime/events';
import { apiRouter } from '../../server/http/api';
import { usageExportHandler } from '../../server/http/usage-export';
import { createRealtimeServer } from '../../server/realtime/io';
import { DEFAULT_MAX_TEAMS_PER_USER } from '../../server/env';
import { createUrlAllowlist, DEFAULT_BACKEND_URL_ALLOWLIST, DEFAULT_WEBHOOK_URL_ALLOWLIST, WEBHOOK_URLS } from '../../server/net/allowlist';
import { createServices, type UserRates } from '../../server/services';
import { createTemporalProvider } from '../../server/temporal/client';
import type { Tracing } from '../../server/tracing/sdk';
import { createCaller } from '../../server/trpc/root';
import { temporalAddress, temporalNamespace, testDataConverter, uniqueTaskQueue } from './temporal';

/** The keyring the test stacks seal cloud keys with: the web side and the workers share it, as in production. */
export const testKeyring = createKeyring(parseKeyList(`test:${Buffer.alloc(32, 'switchyard-tests').toString('base64')}`));
/** The default allow-list: loopback (where the simulators listen) and private ranges. */
export const testBackendUrls = createUrlAllowlist(DEFAULT_BACKEND_URL_ALLOWLIST);
/** Webhooks' default allow-list and the address tests' receivers listen on. */
export const testWebhookUrls = createUrlAllowlist(`${DEFAULT_WEBHOOK_URL_ALLOWLIST},127.0.0.1`, { purpose: WEBHOOK_URLS });

/**
 * Tests wait for conditions by polling (until.ts, every 50 ms), live views included; production's
 * per-user rates would refuse that. tests/api/rate-limits.test.ts runs with production's.
 */
const POLLING_TEST_RATES: UserRates = { workflowQueries: { burst: 1_000, perSecond: 100 }, joins: { burst: 1_000, perSecond: 100 } };

/** BACKEND_REGISTRATION_TOKEN of the test stacks. */
export const TEST_REGISTRATION_TOKEN = 'test-registration-token-0123456789';

export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * The web side without a worker: services, tRPC callers and a Socket.IO server (on the real
 * adapter) on a free port — for tests of accounts, teams, rooms and authorisation, which need
 * no job to run. Tests of the job path use startJobStack (job-stack.ts), which adds the worker.
 */
export async function startAppStack({
  databaseUrl,
  taskQueue = uniqueTaskQueue('app'),
  temporal: temporalServer = { address: temporalAddress(), namespace: temporalNamespace() },
  maxTeamsPerUser = DEFAULT_MAX_TEAMS_PER_USER,
  userRates = POLLING_TEST_RATES,
  maxWaitingJobs,
  tracing,
}: {
  databaseUrl: string;
  taskQueue?: string;
  /** Another Temporal server than the run's shared one (tests that restart their own). */
  temporal?: { address: string; namespace: string };
  /** Teams one non-admin may own (production's default unless a test says otherwise). */
  maxTeamsPerUser?: number;
  /** Per-user rates: generous by default, for tests that poll live views while they wait. */
  userRates?: UserRates;
  /** Admission's bound on waiting jobs (production's default unless a test says otherwise). */
  maxWaitingJobs?: number;
  /** Started tracing (server/tracing/sdk.ts): the stack's Temporal client carries trace context. */
  tracing?: Tracing;
}) {
  const prisma = createPrisma(databaseUrl);
  const temporal = createTemporalProvider({ ...temporalServer, taskQueue, dataConverter: testDataConverter, interceptors: tracing?.clientInterceptors });
  const services = createServices({
    prisma,
    temporal,
    sessionSecret: 'test-session-secret-of-at-least-32-chars',
    defaultModel: 'qwen2.5-coder:7b',
    temporalUiUrl: 'http://localhost:8233',
    maxTeamsPerUser,
    keyring: testKeyring,
    backendUrls: testBackendUrls,
    webhookUrls: testWebhookUrls,
    userRates,
    ...(maxWaitingJobs === undefined ? {} : { maxWaitingJobs }),
  });
  // The compatible APIs, backend registration and the usage export as server/http/app.ts mounts them; the rest of the app is not needed here.
  const httpServer = createServer(
    express()
      .use(apiRouter(services, { backendRegistrationToken: TEST_REGISTRATION_TOKEN }))
      .get('/usage.csv', usageExportHandler(services)),
  );
  const realtime = await createRealtimeServer(httpServer, { services, databaseUrl });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  const sockets: AppSocket[] = [];

  return {
    prisma,
    services,
    url,
    taskQueue,
    /** A tRPC caller as the browser's HTTP requests get it: `null` is an anonymous visitor. */
    caller: (user: SessionUser | null) => createCaller({ services, user }),

    async signIn(email: string, password: string) {
      const { token } = await services.auth.signIn(email, password, { ip: '127.0.0.1' });
      const user = (await services.sessions.getUser(token))!;
      return { user, token, caller: createCaller({ services, user }) };
    },

    /** A real Socket.IO client, authenticated by the session cookie like a browser (none: anonymous). */
    async connect(token?: string, headers: Record<string, string> = {}): Promise<AppSocket> {
      const socket: AppSocket = connectClient(url, {
        transports: ['websocket'],
        extraHeaders: { ...headers, ...(token ? { cookie: `${SESSION_COOKIE}=${token}` } : {}) },
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
      await realtime.close();
      await temporal.close();
      await prisma.$disconnect();
    },
  };
}

export type AppStack = Awaited<ReturnType<typeof startAppStack>>;
