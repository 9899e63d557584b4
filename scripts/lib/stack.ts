import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyMigrations } from '../../server/db/migrate';
import { DEVELOPMENT_ENCRYPTION_KEYS, loadStackEnv, type StackEnv } from '../../server/env';
import { seedDatabase } from '../../prisma/seed';
import { repoRoot } from './paths';
import { assertPortFree, freePort } from './ports';
import { startPostgres, stopStalePostmaster, type RunningPostgres } from './postgres';
import { Supervisor, type Child, type SupervisorOptions } from './supervisor';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-cli';
import { dropDatabase } from '../../server/db/scratch-database';
import { prebuiltWorkflowBundle } from '../../server/temporal/bundles';
import { WORKER_NODE_FLAGS } from '../../server/temporal/worker-options';

/**
 * The whole local stack, for `npm run dev`, `npm start`, the e2e tests and the benchmarks:
 * PostgreSQL (+ migrations and seed) ∥ Temporal dev server ∥ LLM simulator, then worker ∥ web.
 * Independent parts start in parallel; each process waits only for what it needs.
 *
 * - dev:  sources through tsx, fixed ports from the stack env, data kept in .data/, demo accounts.
 * - prod: the build in dist/ with NODE_ENV=production, no account seeded (`npm run admin:bootstrap`
 *         makes the first admin), otherwise like dev.
 * - test: free ports, a throwaway data dir, Temporal headless and in memory (unless `temporalFile`),
 *         always the simulator.
 */

export type StackMode = 'dev' | 'prod' | 'test';

export interface StackPolicy {
  /** Seed the demo accounts, team and project. */
  demoData: boolean;
  /**
   * Start a crashed process again with backoff instead of stopping the stack: worker, web, the
   * embedded PostgreSQL, and Temporal when its state is in a file.
   */
  restartCrashed: boolean;
}

/**
 * What a mode does besides where its files and ports come from. Production seeds no account and
 * keeps serving when a process dies (its jobs resume on the restarted worker); development restarts
 * too, saying so; a test stack stops at the first crash so the failure is seen, unless a test
 * takes production's policy.
 */
export function stackPolicy(mode: StackMode): StackPolicy {
  return { demoData: mode !== 'prod', restartCrashed: mode !== 'test' };
}

/** Backoff of a restarted worker or web process: 1 s, doubling per crash, at most 30 s. */
const RESTART_BACKOFF = { initialMs: 1_000, maxMs: 30_000 };

export interface StackOptions {
  mode: StackMode;
  /** Where PostgreSQL, the Temporal SQLite file and secrets live. dev/prod: .data/; test: a temp dir removed at stop. */
  dataDir?: string;
  /** Override ports (dev/prod default to the stack env; test defaults to free ports). */
  ports?: Partial<StackPorts>;
  /** Number of worker processes (benchmarks scale them). */
  workers?: number;
  /** Start the web process (default true). */
  web?: boolean;
  /** Simulator instances when no real Ollama is configured. */
  simInstances?: number;
  /** Extra simulator flags, e.g. ['--tps', '500'] for benchmarks. */
  simArgs?: string[];
  /** Extra environment for web and worker processes. */
  env?: Record<string, string>;
  echo?: SupervisorOptions['echo'];
  /** Where the supervisor's own events go (default: the process's logger). */
  logger?: SupervisorOptions['logger'];
  logFile?: string;
  /** Install Ctrl-C handling that stops the stack and exits (the dev/start scripts). */
  handleSignals?: boolean;
  /** Read configuration from here instead of the process environment (tests). */
  stackEnv?: StackEnv;
  /** Seed the demo accounts, team and project (default: the mode's `stackPolicy`). */
  demoData?: boolean;
  /** Restart a crashed process (default: the mode's `stackPolicy`). */
  restartCrashed?: boolean;
  /**
   * Keep Temporal's state in a SQLite file in the data dir in test mode too (dev and prod always
   * do), so that a dev server killed and started again resumes every run: the chaos suite.
   */
  temporalFile?: boolean;
}

export interface StackPorts {
  web: number;
  temporal: number;
  temporalUi: number;
  postgres: number;
  sim: number;
}

export interface Stack {
  mode: StackMode;
  /** Whether the demo accounts were seeded. */
  demoData: boolean;
  /** The ENCRYPTION_KEYS web and worker run with: a client of this stack's Temporal needs them to read payloads. */
  encryptionKeys: string;
  webUrl: string | undefined;
  databaseUrl: string;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  temporalUiUrl: string | undefined;
  ollamaUrls: string[];
  dataDir: string;
  /** Its processes by name (`supervisor.processes()`: web, worker, temporal, sim, db), for benchmarks that read their CPU and memory. */
  supervisor: Supervisor;
  /** Resolves when the stack has stopped by itself (a process died) with the reason. */
  done: Promise<string | undefined>;
  stop(): Promise<void>;
}

const NAMESPACE = 'default';
const TASK_QUEUE = 'switchyard';

export class StackError extends Error {
  override name = 'StackError';
  /** The start was cut short by a stop request (Ctrl-C), not by a failure. */
  interrupted = false;
}

/**
 * In test mode the ports are picked free a moment before the processes bind them, and another
 * process on the machine (a parallel test's Temporal, say) may take one first: then the start is
 * tried again on new ports, a few times.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options);
    } catch (error) {
      const portTaken = error instanceof StackError && !error.interrupted && / is in use; set \w+ to another port/.test(error.message);
      if (!portTaken || options.mode !== 'test' || options.ports !== undefined || attempt === 3) throw error;
    }
  }
}

async function startStackOnce(options: StackOptions): Promise<Stack> {
  const env = options.stackEnv ?? loadStackEnv();
  const { mode } = options;
  const test = mode === 'test';
  const prod = mode === 'prod';
  const policy: StackPolicy = { ...stackPolicy(mode), ...pickDefined({ demoData: options.demoData, restartCrashed: options.restartCrashed }) };
  const restart = policy.restartCrashed ? { restart: RESTART_BACKOFF } : {};
  const temporalFile = !test || options.temporalFile === true;

  if (prod) assertBuilt();

  const dataDir = path.resolve(options.dataDir ?? (test ? makeTempDataDir() : path.join(repoRoot, '.data')));
  fs.mkdirSync(dataDir, { recursive: true });
  const removeDataDir = test && !options.dataDir;
  const releaseDataDir = lockDataDir(dataDir);

  // Test stacks always run the simulator: tests must not depend on a real model's answers.
  const realOllama = !test && env.OLLAMA_URL ? env.OLLAMA_URL.split(',').map((u) => u.trim()).filter(Boolean) : undefined;
  const embeddedPostgres = !env.DATABASE_URL;
  let ports: StackPorts;
  try {
    // Before the port checks: an orphaned PostgreSQL of this data dir holds PG_PORT and is ours to stop.
    if (embeddedPostgres) await stopStalePostmaster(path.join(dataDir, 'postgres'));
    ports = await resolvePorts(options, env, { realOllama: Boolean(realOllama), embeddedPostgres });
  } catch (error) {
    releaseDataDir();
    throw error;
  }

  const supervisor = new Supervisor({
    logger: options.logger,
    echo: options.echo ?? true,
    logFile: options.logFile,
    handleSignals: options.handleSignals,
  });
  const cleanup = async () => {
    await supervisor.stop();
    releaseDataDir();
    if (removeDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const stepTimer = (name: string) => {
    const started = Date.now();
    return () => supervisor.log('stack', `${name} ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  };

  try {
    const database = (async (): Promise<RunningPostgres> => {
      const done = stepTimer('database');
      const db = await startPostgres({
        supervisor,
        dataDir: path.join(dataDir, 'postgres'),
        port: ports.postgres,
        databaseUrl: env.DATABASE_URL,
        ...restart,
        // On a shared server a test stack gets its own database, dropped at stop.
        database: test && env.DATABASE_URL ? `switchyard_e2e_${randomBytes(4).toString('hex')}` : undefined,
        ephemeral: test,
      });
      const migrated = await applyMigrations(db.url);
      if (migrated.length) supervisor.log('db', `applied ${migrated.length} migration(s): ${migrated.join(', ')}`);
      await seedDatabase(db.url, { demo: policy.demoData });
      done();
      return db;
    })();

    const temporal = (async (): Promise<TemporalDevServer> => {
      const done = stepTimer('temporal');
      const server = await startTemporalDevServer({
        supervisor,
        port: ports.temporal,
        uiPort: ports.temporalUi,
        headless: test,
        dbFile: temporalFile ? path.join(dataDir, 'temporal.sqlite') : undefined,
        namespace: NAMESPACE,
        // A server in memory that started again would have forgotten every run.
        ...(temporalFile ? restart : {}),
      });
      done();
      return server;
    })();

    const ollama = realOllama
      ? Promise.resolve(realOllama)
      : startSimulator(supervisor, ports.sim, options.simInstances ?? env.SIM_INSTANCES, options.simArgs ?? []);

    // Settle everything before failing, so a failure message never races a half-started sibling.
    const settled = await Promise.allSettled([database, temporal, ollama]);
    const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failures.length) throw failures[0]!.reason;
    const [db, server, ollamaUrls] = [await database, await temporal, await ollama];

    const sessionSecret = prod ? (env.SESSION_SECRET ?? persistentSecret(dataDir, 'session-secret', () => randomBytes(32).toString('hex'))) : env.SESSION_SECRET;
    const encryptionKeys = prod
      ? (env.ENCRYPTION_KEYS ?? persistentSecret(dataDir, 'encryption-keys', () => `local:${randomBytes(32).toString('base64')}`))
      : env.ENCRYPTION_KEYS;
    const webUrl = options.web === false ? undefined : `http://${displayHost(env.HOST, test)}:${ports.web}`;
    const serverEnv: Record<string, string | undefined> = {
      NODE_ENV: prod ? 'production' : test ? 'test' : 'development',
      HOST: test ? '127.0.0.1' : env.HOST,
      PORT: String(ports.web),
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: NAMESPACE,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      TEMPORAL_UI_URL: server.uiUrl,
      OLLAMA_URL: ollamaUrls.join(','),
      SESSION_SECRET: sessionSecret,
      ENCRYPTION_KEYS: encryptionKeys,
      // The children write to a pipe, not the terminal: development asks them for pretty lines anyway.
      LOG_FORMAT: env.LOG_FORMAT ?? (mode === 'dev' && process.stdout.isTTY ? 'pretty' : undefined),
      ...options.env,
    };
    const node = (entry: string, source: string) =>
      prod ? { command: process.execPath, args: [entry] } : { command: process.execPath, args: ['--import', 'tsx', source] };

    const starting: Promise<unknown>[] = [];
    const workerCount = options.workers ?? 1;
    for (let i = 0; i < workerCount; i++) {
      const done = stepTimer(workerCount > 1 ? `worker ${i + 1}` : 'worker');
      const worker = supervisor.spawn({
        name: workerCount > 1 ? `worker${i + 1}` : 'worker',
        ...node('dist/server/worker.js', 'server/worker.ts'),
        cwd: repoRoot,
        // The worker's Node flags (docker/compose.yaml passes the same on its command line); through
        // NODE_OPTIONS so that `options.env` can replace them, as bench/worker-memory.ts's variants do.
        env: { NODE_OPTIONS: WORKER_NODE_FLAGS.join(' '), ...serverEnv },
        stopPhase: 2,
        // Above the worker's own shutdownGraceTime, so running activities can finish.
        stopTimeoutMs: 15_000,
        ...restart,
      });
      starting.push(worker.waitForLine(/worker ready/, { timeoutMs: 120_000 }).then(done));
    }
    if (webUrl) {
      const done = stepTimer('web');
      const web = supervisor.spawn({
        name: 'web',
        ...node('dist/server/main.js', 'server/main.ts'),
        cwd: repoRoot,
        env: serverEnv,
        stopPhase: 2,
        stopTimeoutMs: 8_000,
        ...restart,
      });
      starting.push(web.waitForLine(/web listening on http/, { timeoutMs: 120_000 }).then(done));
    }
    await Promise.all(starting);

    return {
      mode,
      demoData: policy.demoData,
      encryptionKeys: encryptionKeys ?? DEVELOPMENT_ENCRYPTION_KEYS,
      webUrl,
      databaseUrl: db.url,
      temporalAddress: server.address,
      temporalNamespace: NAMESPACE,
      taskQueue: TASK_QUEUE,
      temporalUiUrl: server.uiUrl,
      ollamaUrls,
      dataDir,
      supervisor,
      done: supervisor.done,
      stop: async () => {
        await cleanup();
        if (test && !db.embedded) await dropDatabase(db.adminUrl, decodeURIComponent(new URL(db.url).pathname.slice(1)));
      },
    };
  } catch (error) {
    const reason = supervisor.failed;
    const interrupted = supervisor.stopping && !reason;
    await cleanup();
    if (interrupted) {
      const stopped = new StackError('start-up interrupted');
      stopped.interrupted = true;
      throw stopped;
    }
    if (error instanceof StackError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new StackError(reason && !message.includes(reason) ? `${message}\n(${reason})` : message, { cause: error });
  }
}

async function resolvePorts(
  options: StackOptions,
  env: StackEnv,
  uses: { realOllama: boolean; embeddedPostgres: boolean },
): Promise<StackPorts> {
  const given = options.ports ?? {};
  if (options.mode === 'test') {
    return {
      web: given.web ?? (await freePort()),
      temporal: given.temporal ?? (await freePort()),
      temporalUi: given.temporalUi ?? 0,
      postgres: given.postgres ?? (await freePort()),
      // The simulator picks a free port per instance itself.
      sim: given.sim ?? 0,
    };
  }
  const ports: StackPorts = {
    web: given.web ?? env.PORT,
    temporal: given.temporal ?? env.TEMPORAL_PORT,
    temporalUi: given.temporalUi ?? env.TEMPORAL_UI_PORT,
    postgres: given.postgres ?? env.PG_PORT,
    sim: given.sim ?? env.SIM_PORT,
  };
  // Checked up front with the variable that moves each one; a clash found later would leave a half-started stack.
  const checks: [number, string][] = [
    [ports.temporal, 'TEMPORAL_PORT'],
    [ports.temporalUi, 'TEMPORAL_UI_PORT'],
  ];
  if (options.web !== false) checks.unshift([ports.web, 'PORT']);
  if (uses.embeddedPostgres) checks.push([ports.postgres, 'PG_PORT']);
  if (!uses.realOllama) {
    const instances = options.simInstances ?? env.SIM_INSTANCES;
    for (let i = 0; i < instances; i++) checks.push([ports.sim + i, `SIM_PORT (the simulator uses ${instances} ports from it)`]);
  }
  for (const [port, variable] of checks) await assertPortFree(port, variable);
  return ports;
}

async function startSimulator(supervisor: Supervisor, port: number, instances: number, extraArgs: string[]): Promise<string[]> {
  const sim: Child = supervisor.spawn({
    name: 'sim',
    command: process.execPath,
    args: ['--import', 'tsx', 'simulator/main.ts', '--port', String(port), '--instances', String(instances), ...extraArgs],
    cwd: repoRoot,
    stopPhase: 1,
    stopTimeoutMs: 3_000,
  });
  const urls: string[] = [];
  await sim.waitForLine(
    (line) => {
      const url = /listening on (https?:\/\/\S+)/.exec(line)?.[1];
      if (url) urls.push(url);
      return urls.length >= instances;
    },
    { timeoutMs: 60_000 },
  );
  return urls;
}

function assertBuilt(): void {
  const missing = ['dist/server/main.js', 'dist/server/worker.js', prebuiltWorkflowBundle(false), prebuiltWorkflowBundle(true), 'build/server/index.js'].filter(
    (file) => !fs.existsSync(path.join(repoRoot, file)),
  );
  if (missing.length) {
    throw new StackError(`The production build is missing (${missing.join(', ')}); run \`npm run build\` first.`);
  }
}

/**
 * One stack per data directory: two would share PostgreSQL's cluster and Temporal's SQLite file.
 * The lock is a pid file; one whose process is gone is stale and taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, 'stack.pid');
  try {
    const holder = Number(fs.readFileSync(file, 'utf8').trim());
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new StackError(
        `Another Switchyard stack (pid ${holder}) is using ${dataDir}; stop it first (or give this one another data directory).`,
      );
    }
  } catch (error) {
    if (error instanceof StackError) throw error;
  }
  fs.writeFileSync(file, String(process.pid));
  return () => {
    try {
      if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file);
    } catch {
      // already gone
    }
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function makeTempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-stack-'));
  // mkdtemp makes it 0700; PostgreSQL runs as another user when we are root and must enter it.
  fs.chmodSync(dir, 0o755);
  return dir;
}

/**
 * `npm start` without SESSION_SECRET or ENCRYPTION_KEYS: one random value kept in the data dir, so
 * sessions and sealed data survive restarts.
 */
function persistentSecret(dataDir: string, name: string, generate: () => string): string {
  const file = path.join(dataDir, name);
  if (!fs.existsSync(file)) fs.writeFileSync(file, generate(), { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}

function displayHost(host: string, test: boolean): string {
  if (test) return '127.0.0.1';
  return host === '127.0.0.1' || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

/** The entries that are set: an option left undefined keeps the policy's value. */
function pickDefined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
