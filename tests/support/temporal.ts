import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';
import { repoRoot } from '../../scripts/lib/paths';
import { DEVELOPMENT_ENCRYPTION_KEYS } from '../../server/env';
import { payloadCodec } from '../../server/temporal/codec';
import './context';
import { perFile } from './per-file';

/** The run's Temporal dev server (one for all test files; isolate by task queue and workflow id). */
export function temporalAddress(): string {
  return inject('switchyard').temporalAddress;
}

export function temporalNamespace(): string {
  return inject('switchyard').temporalNamespace;
}

/** A task queue no other test file uses, so workers of parallel files never steal each other's tasks. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/**
 * The payload codec of every test client, worker and replay: the development key, as the test
 * stacks' processes use it, so histories recorded by any of them replay.
 */
export const testPayloadCodec: PayloadCodec = payloadCodec(DEVELOPMENT_ENCRYPTION_KEYS);
export const testDataConverter: DataConverter = { payloadCodecs: [testPayloadCodec] };

export interface TestTemporal {
  /** With the payload codec, like the app's clients. */
  client: Client;
  connection: Connection;
  /** For `Worker.create({ connection })`. */
  nativeConnection: NativeConnection;
  namespace: string;
  close(): Promise<void>;
}

/** Connects to the run's shared server, or to `address` (a test's own server). */
export async function connectTemporal(address = temporalAddress(), namespace = temporalNamespace()): Promise<TestTemporal> {
  const [connection, nativeConnection] = await Promise.all([Connection.connect({ address }), NativeConnection.connect({ address })]);
  return {
    client: new Client({ connection, namespace, dataConverter: testDataConverter }),
    connection,
    nativeConnection,
    namespace,
    close: async () => {
      await Promise.all([connection.close(), nativeConnection.close()]);
    },
  };
}

/** Hook form: connected before the file's tests, closed after them. Read the fields inside tests or hooks. */
export function useTemporal(): TestTemporal {
  return perFile('useTemporal()', connectTemporal, (temporal) => temporal.close());
}

/**
 * The workflow bundle for `Worker.create({ workflowBundle })`, built once per run and shared by all
 * test files (webpack takes seconds on two cores; every file doing it would dominate the run).
 * The first file to ask builds it under a lock directory; the others wait for the file.
 */
export async function workflowBundle(
  workflowsPath = path.join(repoRoot, 'workflows/index.ts'),
  workflowInterceptorModules: string[] = [],
): Promise<{ codePath: string }> {
  const dir = path.join(inject('switchyard').runDir, 'workflow-bundles');
  fs.mkdirSync(dir, { recursive: true });
  const key = createHash('sha256').update([path.resolve(workflowsPath), ...workflowInterceptorModules].join('\n')).digest('hex').slice(0, 16);
  const codePath = path.join(dir, `${key}.js`);
  const lock = path.join(dir, `${key}.lock`);
  const deadline = Date.now() + 180_000;
  while (!fs.existsSync(codePath)) {
    let owner = false;
    try {
      fs.mkdirSync(lock);
      owner = true;
    } catch {
      // another file is building it
    }
    if (owner) {
      try {
        const { code } = await bundleWorkflowCode({ workflowsPath: path.resolve(workflowsPath), workflowInterceptorModules, logger: silentLogger });
        const temp = `${codePath}.${process.pid}.tmp`;
        fs.writeFileSync(temp, code);
        fs.renameSync(temp, codePath);
      } finally {
        fs.rmSync(lock, { recursive: true, force: true });
      }
      break;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the workflow bundle ${codePath}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { codePath };
}

const silentLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(`workflow bundle: ${message}`),
  error: (message: string) => console.error(`workflow bundle: ${message}`),
};
