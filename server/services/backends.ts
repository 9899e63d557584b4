import type { Backend, PrismaClient } from '../generated/prisma/client';
import type { BackendInit } from '../../workflows/scheduler/core';
import type { LlmBackend } from '../llm/types';
import { catalogEntrySelect, servedNames, type CatalogEntry } from './catalog-mapping';

export interface BackendRegistration {
  backend: LlmBackend;
  url: string;
  pool: string;
  /** Requests it serves at once (Ollama's OLLAMA_NUM_PARALLEL). */
  slots: number;
  /** Leases beyond the slots (see `Backend.prefetch`); absent: none. */
  prefetch?: number;
}

/**
 * Records the configured backends in the database, which admins edit from then on: a new one is
 * added with its pool, slots and the models it reports; a known one only refreshes its models.
 */
export async function registerBackends(prisma: PrismaClient, registrations: BackendRegistration[]): Promise<void> {
  for (const { backend, url, pool, slots, prefetch } of registrations) {
    const models = await backend
      .listModels()
      .then((list) => list.map((m) => m.name))
      .catch(() => null);
    await prisma.backend.upsert({
      where: { id: backend.id },
      create: { id: backend.id, kind: backend.kind, name: defaultBackendName(url), url, pool, slots, prefetch, models: models ?? [] },
      update: models ? { models } : {},
    });
  }
}

/** What a backend is called until an admin names it: its URL's host and port. */
export function defaultBackendName(url: string): string {
  return new URL(url).host;
}

/**
 * An enabled backend row as the scheduler sees it: its models are the catalogue names it can
 * serve, from the concrete models it reports (see catalog-mapping.ts).
 */
export function toSchedulerBackend(backend: Backend, catalog: readonly CatalogEntry[]): BackendInit {
  return {
    id: backend.id,
    kind: backend.kind,
    pool: backend.pool,
    slots: backend.slots,
    prefetch: effectivePrefetch(backend),
    models: servedNames(backend, catalog),
    rpmLimit: backend.rpmLimit ?? 0,
    // Unset: Ollama's default OLLAMA_MAX_LOADED_MODELS, 3. What is loaded is read (docs/residency.md).
    maxLoadedModels: backend.kind === 'ollama' ? (backend.maxLoadedModels ?? 3) : Math.max(1, backend.models.length),
    memoryBudgetMb: backend.memoryBudgetMb ?? 0,
  };
}

/**
 * The catalogue, and the enabled backends as the scheduler sees them: one read for the scheduler's
 * setup, admission and the models a team is offered, so all three agree on what is served.
 */
export async function loadServing(db: Pick<PrismaClient, 'catalogModel' | 'backend'>): Promise<{ entries: CatalogEntry[]; backends: BackendInit[] }> {
  const [entries, rows] = await Promise.all([
    db.catalogModel.findMany({ select: catalogEntrySelect, orderBy: { name: 'asc' } }),
    db.backend.findMany({ where: { enabled: true }, orderBy: { id: 'asc' } }),
  ]);
  return { entries, backends: rows.map((row) => toSchedulerBackend(row, entries)) };
}

/**
 * A backend's stored prefetch; none when unset, and never for cloud. Off by default: a job keeps
 * its slot through its review, and a pipelined request would take that slot in Ollama's queue
 * ahead of the review, delaying it by a whole generation (see docs/scheduler.md, "Pipelining").
 */
export function effectivePrefetch(backend: { kind: 'ollama' | 'openai'; prefetch: number | null }): number {
  return backend.kind === 'ollama' ? (backend.prefetch ?? 0) : 0;
}
