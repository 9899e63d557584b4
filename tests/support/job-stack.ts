import { NativeConnection } from '@temporalio/worker';
import { createActivities, type Activities } from '../../activities';
import { envBackends } from '../../server/llm/config';
import { createLiveRegistry } from '../../server/llm/live-registry';
import { createPublisher } from '../../server/realtime/publisher';
import { backendCatalogue, bootstrapBackends } from '../../server/services/backends';
import { createCatalogLookup } from '../../server/services/catalog-lookup';
import { createJobMetrics } from '../../server/metrics/jobs';
import { createProcessRegistry } from '../../server/metrics/registry';
import { ensureScheduler } from '../../server/temporal/scheduler';
import { createJobWorkers, type JobWorkers } from '../../server/temporal/workers';
import type { Tracing } from '../../server/tracing/sdk';
import { positionQuery, schedulerWorkflowId, statusQuery, type SchedulerInput } from '../../workflows/scheduler/api';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../simulator';
import { startAppStack, testKeyring, testWebhookUrls, type AppSocket } from './app-stack';
import { useTestDatabase } from './db';
import { deferred, perFile } from './per-file';
import { testDataConverter, uniqueTaskQueue, useTemporal, workflowBundle, type TestTemporal } from './temporal';
import { until } from './until';

export type TestSocket = AppSocket;

export interface JobStackOptions {
  databaseUrl: string;
  temporal: TestTemporal;
  /** Ollama-compatible servers (simulators); registered in the pool "local" unless `ollamaPools` says otherwise. */
  ollamaUrls: string[];
  /** The pool of each of `ollamaUrls`, in order (e.g. "dedicated"); missing ones are "local". */
  ollamaPools?: string[];
  /** A simulator serving the OpenAI API, registered as the pool "cloud". */
  cloudUrl?: string;
  /** Slots of each Ollama backend as the scheduler sees them. */
  slots?: number;
  /**
   * Leases each Ollama backend takes beyond its slots (pipelining). Default 0, not production's
   * "as many as slots": most tests count leases against slots and mean one lease per slot.
   */
  prefetch?: number;
  /** How often the scheduler reclaims leases of finished workflows. */
  leaseCheckMs?: number;
  /** The scheduler's constants for this stack (e.g. a short aging step). */
  schedulerConfig?: SchedulerInput['config'];
  /** The scheduler continues as new past this many history events (default 8,000). */
  schedulerHistoryLimit?: number;
  /** How long the worker keeps the catalogue it read (production: 5 s); tests that edit it and submit at once pass 0. */
  catalogCacheMs?: number;
  /** How often the worker reads the backend rows (production: BACKEND_REFRESH_MS, 3 s). */
  backendRefreshMs?: number;
  /** Admission's bound on waiting jobs of everyone (production: MAX_WAITING_JOBS). */
  maxWaitingJobs?: number;
  /** false: no in-process worker until `startWorker()` (tests that bring their own first). */
  worker?: boolean;
  /** Started tracing: the client and workers get its interceptors and sinks, the workers the traced bundle, as server/worker.ts wires them. */
  tracing?: Tracing;
  /** Wraps the workers' real activities, e.g. to strike a backend fault the moment one of them begins. */
  aroundActivities?: (activities: Activities) => Activities;
}

/**
 * The job path without the browser: the web side of startAppStack plus a publisher on the same
 * adapter, the backends registered for the scheduler, and the Temporal workers on their own task queue
 * — the same modules `server/main.ts` and `server/worker.ts` wire, against the run's PostgreSQL
 * and Temporal dev server.
 */
export async function startJobStack(options: JobStackOptions) {
  const { databaseUrl, temporal } = options;
  const app = await startAppStack({
    databaseUrl,
    taskQueue: uniqueTaskQueue('jobs'),
    temporal: { address: temporal.connection.options.address, namespace: temporal.namespace },
    ...(options.maxWaitingJobs === undefined ? {} : { maxWaitingJobs: options.maxWaitingJobs }),
    tracing: options.tracing,
  });
  const { prisma, taskQueue } = app;
  const publisher = await createPublisher({ databaseUrl });
  const cloudURL = options.cloudUrl && `${options.cloudUrl}/v1`;
  const configured = envBackends({
    ollamaUrls: options.ollamaUrls,
    ollama: { slots: options.slots ?? 4, prefetch: options.prefetch ?? 0 },
    ...(cloudURL ? { openai: { baseURL: cloudURL, apiKey: 'simulator', slots: 8 } } : {}),
  }).map((backend, i) => (backend.kind === 'ollama' ? { ...backend, pool: options.ollamaPools?.[i] ?? 'local' } : backend));
  await bootstrapBackends(prisma, testKeyring, configured);
  // Workers follow the stored backends as production's do, a little faster than its default.
  const backends = await createLiveRegistry({ prisma, keyring: testKeyring, refreshMs: options.backendRefreshMs ?? 1_000 });
  // One registry for the stack's worker, as a worker process has (tests read it through serveMetrics).
  const metrics = createJobMetrics(createProcessRegistry());
  const configureScheduler = () =>
    ensureScheduler(temporal.client, prisma, taskQueue, {
      leaseCheckMs: options.leaseCheckMs,
      config: options.schedulerConfig,
      historyLimit: options.schedulerHistoryLimit,
    });

  const around = options.aroundActivities ?? ((activities: Activities) => activities);
  /** A worker process's pair of workers, with activities (and so signal batchers) of its own. */
  const createWorkers = async (connection: NativeConnection) =>
    createJobWorkers({
      connection,
      namespace: temporal.namespace,
      dataConverter: testDataConverter,
      taskQueue,
      workflowBundle: await workflowBundle(undefined, options.tracing?.workflowInterceptorModules),
      ...(options.tracing ? { interceptors: options.tracing.workerInterceptors, sinks: options.tracing.sinks } : {}),
      activities: around(
        createActivities({
          prisma,
          publisher,
          backends,
          catalog: createCatalogLookup(prisma, options.catalogCacheMs),
          metrics,
          temporal: temporal.client,
          startScheduler: configureScheduler,
          backendCatalogue: () => backendCatalogue(prisma),
          keyring: testKeyring,
          webhookUrls: testWebhookUrls,
        }),
      ),
    });
  const workers: { worker: JobWorkers; running: Promise<void> }[] = [];
  const run = (worker: JobWorkers) => workers.push({ worker, running: worker.run() });
  // Temporal's SDK lets one connection poll a task queue with one worker only, as in one process.
  const ownConnections: NativeConnection[] = [];
  async function startWorker() {
    if (workers.length > 0) return;
    run(await createWorkers(temporal.nativeConnection));
    await configureScheduler();
  }
  async function addWorkers() {
    const connection = await NativeConnection.connect({ address: temporal.connection.options.address });
    ownConnections.push(connection);
    run(await createWorkers(connection));
  }
  if (options.worker !== false) await startWorker();

  return {
    ...app,
    startWorker,
    /**
     * Another worker process's workers on the same task queues (in this process, but with their own
     * activities and so their own signal batchers); stopped with the stack.
     */
    addWorkers,
    /** Hands the scheduler the tiers and enabled backends now in the database. */
    configureScheduler,
    /** The stack's scheduler workflow. */
    scheduler: () => temporal.client.workflow.getHandle(schedulerWorkflowId(taskQueue)),
    /** What the stack's worker counted (server/metrics/jobs.ts). */
    metrics,
    /** The backend ids the scheduler grants, in the order of `ollamaUrls`, then the cloud one. */
    backendIds: configured.map((backend) => backend.id),

    /**
     * Resolves once the scheduler has taken the job (waiting, holding a lease, or already past
     * it). A job asks for its slot from its workflow's first task, not at submit: tests whose
     * outcome depends on the order of arrival wait for each job before submitting the next.
     */
    async untilScheduled(jobId: string): Promise<void> {
      const scheduler = temporal.client.workflow.getHandle(schedulerWorkflowId(taskQueue));
      await until(async () => {
        if ((await scheduler.query(positionQuery, jobId)) !== null) return true;
        if ((await scheduler.query(statusQuery)).leases.includes(jobId)) return true;
        const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { status: true } });
        return job.status !== 'queued';
      }, `the scheduler to take job ${jobId}`);
    },

    async stop() {
      for (const { worker } of workers) worker.shutdown();
      await Promise.all(workers.map(({ running }) => running));
      await Promise.all(ownConnections.map((connection) => connection.close()));
      backends.close();
      await publisher.close();
      await app.stop();
    },
  };
}

export type JobStack = Awaited<ReturnType<typeof startJobStack>>;

export interface JobStackFixtureOptions<S extends Partial<SimulatorOptions>[]>
  extends Omit<JobStackOptions, 'databaseUrl' | 'temporal' | 'ollamaUrls' | 'cloudUrl'> {
  /** One simulated Ollama backend per entry, registered in the pool "local" (default: one). */
  simulators?: S;
  /** A simulated cloud endpoint, registered in the pool "cloud". */
  cloud?: Partial<SimulatorOptions>;
  /** Seed the database with the demo accounts and tiers (default true). */
  seed?: boolean;
}

/**
 * The job path for one test file: its own database, the run's Temporal server, the simulators and
 * the stack, started before the file's tests and stopped after them (also when they fail). The
 * handles are usable at module scope and resolve once the file's `beforeAll` has run.
 */
export function useJobStack<const S extends Partial<SimulatorOptions>[] = [Partial<SimulatorOptions>]>(options: JobStackFixtureOptions<S> = {}) {
  const { simulators = [{}], cloud: cloudOptions, seed = true, ...stackOptions } = options;
  const db = useTestDatabase({ seed });
  const temporal = useTemporal();
  const started = perFile(
    'useJobStack()',
    async () => {
      const sims = await Promise.all(simulators.map((simulator) => createSimulator(simulator)));
      const cloud = cloudOptions ? await createSimulator(cloudOptions) : undefined;
      const closeAll = () => Promise.all([...sims, cloud].map((sim) => sim?.close()));
      try {
        const stack = await startJobStack({
          ...stackOptions,
          databaseUrl: db.url,
          temporal,
          ollamaUrls: sims.map((sim) => sim.url),
          ...(cloud ? { cloudUrl: cloud.url } : {}),
        });
        return { stack, sims, cloud, closeAll };
      } catch (error) {
        await closeAll();
        throw error;
      }
    },
    async ({ stack, closeAll }) => {
      await stack.stop();
      await closeAll();
    },
  );
  return {
    db,
    temporal,
    stack: deferred('useJobStack().stack', () => started.stack),
    /** The simulated Ollama backends, in the order of `simulators`. */
    sims: simulators.map((_, i) => deferred(`useJobStack().sims[${i}]`, () => started.sims[i])) as { [K in keyof S]: Simulator },
    /** The first of them. */
    sim: deferred('useJobStack().sim', () => started.sims[0]),
    cloud: deferred('useJobStack().cloud', () => started.cloud),
  };
}
