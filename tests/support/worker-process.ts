import { afterAll, beforeAll } from 'vitest';
import { repoRoot } from '../../scripts/lib/paths';
import { Supervisor, type Child } from '../../scripts/lib/supervisor';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../simulator';
import { useTestDatabase } from './db';
import { startJobStack, type JobStack } from './job-stack';
import { useTemporal } from './temporal';

export interface WorkerProcessOptions {
  name: string;
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  ollamaUrls: string[];
  slots: number;
  /** More of the worker's environment (e.g. a faster resource loop). */
  env?: Record<string, string>;
}

/**
 * A real `server/worker.ts` process under `supervisor`, ready once it says so: tests that crash
 * a worker kill this (a SIGKILL), as production would lose one.
 */
export async function startWorkerProcess(supervisor: Supervisor, options: WorkerProcessOptions): Promise<Child> {
  const worker = supervisor.spawn({
    name: options.name,
    command: process.execPath,
    args: ['--import', 'tsx', 'server/worker.ts'],
    cwd: repoRoot,
    env: {
      NODE_ENV: 'test',
      DATABASE_URL: options.databaseUrl,
      TEMPORAL_ADDRESS: options.temporalAddress,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: options.taskQueue,
      OLLAMA_URL: options.ollamaUrls.join(','),
      OLLAMA_SLOTS: String(options.slots),
      ...options.env,
    },
    expectExit: true,
  });
  await worker.waitForLine(/worker ready/, { timeoutMs: 180_000 });
  return worker;
}

/**
 * A file's stack whose workers are `server/worker.ts` processes (none until `startWorker`), on
 * two simulators of two slots each, with the test database seeded: for tests that kill a worker
 * mid-run and start another. `stack` and `sims` are there once the file's beforeAll ran.
 */
export function useWorkerProcessStack(name: string, simulator: Partial<SimulatorOptions>) {
  const db = useTestDatabase({ seed: true });
  const temporal = useTemporal();
  const supervisor = new Supervisor({ echo: false });
  let started: { stack: JobStack; sims: Simulator[] } | undefined;
  let sims: Simulator[] = [];

  beforeAll(async () => {
    sims = await Promise.all([0, 1].map(() => createSimulator({ slots: 2, ...simulator })));
    const stack = await startJobStack({ databaseUrl: db.url, temporal, ollamaUrls: sims.map((sim) => sim.url), slots: 2, worker: false });
    started = { stack, sims };
  }, 300_000);

  afterAll(async () => {
    await supervisor.stop();
    await started?.stack.stop();
    await Promise.all(sims.map((sim) => sim.close()));
  });

  const current = () => {
    if (!started) throw new Error('useWorkerProcessStack(): the stack exists only inside tests and hooks');
    return started;
  };
  let workers = 0;
  return {
    temporal,
    get stack() {
      return current().stack;
    },
    get sims() {
      return current().sims;
    },
    startWorker: (): Promise<Child> =>
      startWorkerProcess(supervisor, {
        name: `${name}-worker-${++workers}`,
        databaseUrl: db.url,
        temporalAddress: temporal.connection.options.address,
        taskQueue: current().stack.taskQueue,
        ollamaUrls: current().sims.map((sim) => sim.url),
        slots: 2,
      }),
  };
}
