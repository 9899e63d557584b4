import type { PrismaClient } from '../generated/prisma/client';
import type { QueueSnapshot } from '../../workflows/scheduler/core';
import { defaultBackendName } from './backends';

// Backends change rarely; a queue update must not read the table each time.
const FRESH_MS = 10_000;

/**
 * What people who are not admins call a backend: the name an admin gave it, or — while it still
 * has its default name, which is its internal host and port — its pool and an ordinal
 * (`local #2`). Ids (`ollama@<host:port>`) and URLs stay with admins.
 */
export function createBackendNames(prisma: PrismaClient) {
  let cached: { at: number; names: Map<string, string> } | null = null;

  async function names(): Promise<Map<string, string>> {
    if (cached && Date.now() - cached.at < FRESH_MS) return cached.names;
    const rows = await prisma.backend.findMany({ select: { id: true, name: true, url: true, pool: true }, orderBy: [{ pool: 'asc' }, { id: 'asc' }] });
    const ordinal = new Map<string, number>();
    const map = new Map<string, string>();
    for (const row of rows) {
      const n = (ordinal.get(row.pool) ?? 0) + 1;
      ordinal.set(row.pool, n);
      map.set(row.id, row.name === defaultBackendName(row.url) ? `${row.pool} #${n}` : row.name);
    }
    cached = { at: Date.now(), names: map };
    return map;
  }

  /** A backend's id or URL, or any host:port, in a text (an error message) replaced by a name. */
  function scrub(text: string, map: Map<string, string>, urls: Map<string, string>): string {
    let out = text;
    for (const [id, name] of map) out = out.split(id).join(name);
    for (const [url, name] of urls) out = out.split(url).join(name).split(new URL(url).host).join(name);
    return out.replace(/\b(?:[a-z][\w+.-]*:\/\/)?(?:\d{1,3}(?:\.\d{1,3}){3}|\[[\da-f:]+\]|[\w-]+(?:\.[\w-]+)*):\d{2,5}\b/gi, 'a backend');
  }

  return {
    names,

    /** The snapshot with backends named for people: pool backends and running jobs. */
    async named(snap: QueueSnapshot): Promise<QueueSnapshot> {
      const map = await names();
      const shown = (id: string) => map.get(id) ?? 'a backend';
      return {
        ...snap,
        pools: snap.pools.map((pool) => ({ ...pool, backends: pool.backends.map((b) => ({ ...b, id: shown(b.id) })) })),
        teams: Object.fromEntries(
          Object.entries(snap.teams).map(([teamId, team]) => [teamId, { ...team, running: team.running.map((r) => ({ ...r, backendId: shown(r.backendId) })) }]),
        ),
      };
    },

    /** A job's backend and error as a person who is not an admin may see them. */
    async forUser<J extends { backendId: string | null; error: string | null }>(job: J): Promise<J> {
      const map = await names();
      const rows = await prisma.backend.findMany({ select: { id: true, url: true } });
      const urls = new Map(rows.map((r) => [r.url, map.get(r.id) ?? 'a backend']));
      return {
        ...job,
        backendId: job.backendId === null ? null : (map.get(job.backendId) ?? 'a backend'),
        error: job.error === null ? null : scrub(job.error, map, urls),
      };
    },
  };
}

export type BackendNames = ReturnType<typeof createBackendNames>;
