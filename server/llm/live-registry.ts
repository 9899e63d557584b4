import type { Keyring } from '../crypto/keyring';
import type { PrismaClient } from '../generated/prisma/client';
import { createBackendClient, type ClientOptions } from './config';
import type { LlmBackend } from './types';

/**
 * A worker's backend clients, built from the stored backend rows and kept in step with them: every
 * `refreshMs` the rows are read again, a client is rebuilt when its row's kind, URL or key changed,
 * and dropped when its row is gone. A grant naming a backend this worker has not seen yet (added a
 * moment ago) reads the rows at once instead of failing. Disabled and draining rows keep their
 * clients: the jobs already granted there finish on them.
 */
export interface LiveBackendRegistry {
  get(backendId: string): Promise<LlmBackend | undefined>;
  /** Reads the rows now; concurrent callers share one read. */
  refresh(): Promise<void>;
  close(): void;
}

interface Options extends ClientOptions {
  prisma: Pick<PrismaClient, 'backend'>;
  keyring: Keyring;
  refreshMs: number;
  /** Told when a refresh fails (the clients it had stay in use). */
  onError?: (error: unknown) => void;
}

export async function createLiveRegistry({ prisma, keyring, refreshMs, onError, ...clientOptions }: Options): Promise<LiveBackendRegistry> {
  const clients = new Map<string, { fingerprint: string; client: LlmBackend }>();
  let pending: Promise<void> | null = null;

  async function read(): Promise<void> {
    const rows = await prisma.backend.findMany({ select: { id: true, kind: true, url: true, apiKeySealed: true } });
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      // The sealed text changes with every new key (fresh nonce), so it stands for the key here.
      const fingerprint = `${row.kind}\u0000${row.url}\u0000${row.apiKeySealed ?? ''}`;
      if (clients.get(row.id)?.fingerprint === fingerprint) continue;
      const apiKey = row.apiKeySealed ? keyring.openText(row.apiKeySealed) : null;
      clients.set(row.id, { fingerprint, client: createBackendClient({ id: row.id, kind: row.kind, url: row.url, apiKey }, clientOptions) });
    }
    for (const id of clients.keys()) if (!seen.has(id)) clients.delete(id);
  }

  function refresh(): Promise<void> {
    pending ??= read().finally(() => {
      pending = null;
    });
    return pending;
  }

  await refresh();
  const timer = setInterval(() => refresh().catch((error: unknown) => onError?.(error)), refreshMs);
  timer.unref();

  return {
    async get(backendId) {
      if (!clients.has(backendId)) await refresh();
      return clients.get(backendId)?.client;
    },
    refresh,
    close: () => clearInterval(timer),
  };
}
