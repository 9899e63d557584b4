import type { PrismaClient } from '../generated/prisma/client';
import { catalogEntrySelect, findCatalogEntry, type CatalogEntry } from './catalog-mapping';

/** Catalogue entries by name, for the worker's activities (passed to createActivities). */
export interface CatalogLookup {
  /** The entry `name` refers to (see findCatalogEntry); null when the catalogue has none. */
  find(name: string): Promise<CatalogEntry | null>;
}

/**
 * Reads the whole catalogue (a handful of rows) at most once per `ttlMs`, so the model calls of a
 * busy worker do not each query it; an admin's edit reaches running workers within that time. A
 * name not found forces one fresh read: it may be an entry created since.
 */
export function createCatalogLookup(prisma: PrismaClient, ttlMs = 5_000): CatalogLookup {
  let cached: { at: number; entries: Promise<CatalogEntry[]> } | undefined;
  const read = (fresh: boolean): Promise<CatalogEntry[]> => {
    const now = performance.now();
    if (fresh || !cached || now - cached.at > ttlMs) {
      const entries = prisma.catalogModel.findMany({ select: catalogEntrySelect });
      cached = { at: now, entries };
      entries.catch(() => {
        if (cached?.entries === entries) cached = undefined;
      });
    }
    return cached.entries;
  };
  return {
    async find(name) {
      return findCatalogEntry(await read(false), name) ?? findCatalogEntry(await read(true), name) ?? null;
    },
  };
}
