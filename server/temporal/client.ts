import { Client, Connection, type ClientOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** The payload codec (`payloadDataConverter`): prompts and outputs reach Temporal sealed. */
  dataConverter: DataConverter;
  /** Tracing's client interceptors, when it is on. */
  interceptors?: ClientOptions['interceptors'];
}

/**
 * One lazily opened Temporal connection per process. A failed connect is not cached, so the web
 * process serves a degraded state while Temporal is down and recovers when it comes back.
 */
export function createTemporalProvider(config: TemporalConfig) {
  let pending: Promise<Client> | undefined;
  return {
    config,
    get(): Promise<Client> {
      pending ??= Connection.connect({ address: config.address, connectTimeout: '3 seconds' })
        .then((connection) => new Client({ connection, namespace: config.namespace, dataConverter: config.dataConverter, interceptors: config.interceptors }))
        .catch((error: unknown) => {
          pending = undefined;
          throw error;
        });
      return pending;
    },
    async close(): Promise<void> {
      const client = await pending?.catch(() => undefined);
      await client?.connection.close();
    },
  };
}

export type TemporalProvider = ReturnType<typeof createTemporalProvider>;
