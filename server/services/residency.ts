import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { ResidencyRead } from '../llm/types';
import { sameOllamaModel } from '../llm/model-names';
import type { ResidencyReport } from '../../workflows/scheduler/core';
import { servedNames, type CatalogEntry } from './catalog-mapping';

/**
 * Residency read from Ollama (docs/residency.md): what the resource loop stores of each read and
 * what it tells the scheduler, and what the admin page shows of it.
 */

/**
 * A model not loaded is known by its files (/api/tags); loaded, it takes about a fifth more (KV
 * cache and compute graph). Used only until the model is read loaded, when /api/ps gives its size.
 */
export const LOAD_OVERHEAD = 1.2;

const MB = 1024 * 1024;

/**
 * Replaces what is stored of a backend's residency with this read, and its served models with
 * what it has on disk (a model pulled or removed outside Switchyard is noticed here).
 */
export async function recordResidency(prisma: PrismaClient, backendId: string, read: ResidencyRead, seenAt: Date): Promise<void> {
  const rows = new Map<string, Prisma.BackendResidencyCreateManyInput>();
  for (const { name, sizeBytes } of read.present) {
    rows.set(name, { backendId, model: name, present: true, loaded: false, sizeBytes: BigInt(sizeBytes), expiresAt: null, seenAt });
  }
  for (const { name, sizeBytes, expiresAt } of read.loaded) {
    rows.set(name, { backendId, model: name, present: rows.has(name), loaded: true, sizeBytes: BigInt(sizeBytes), expiresAt, seenAt });
  }
  const present = read.present.map((m) => m.name);
  await prisma.$transaction([
    prisma.backendResidency.deleteMany({ where: { backendId } }),
    prisma.backendResidency.createMany({ data: [...rows.values()] }),
    prisma.backend.updateMany({ where: { id: backendId, NOT: { models: { equals: present } } }, data: { models: present } }),
  ]);
}

/** The read in the scheduler's terms: catalogue names, sizes in MB. */
export function residencyReport(backendId: string, read: ResidencyRead, entries: readonly CatalogEntry[]): ResidencyReport {
  const namesOf = (concrete: string) => entries.filter((entry) => entry.ollamaModel !== null && sameOllamaModel(entry.ollamaModel, concrete)).map((entry) => entry.name);
  const sizesMb: Record<string, number> = {};
  for (const { name, sizeBytes } of read.present) for (const entry of namesOf(name)) sizesMb[entry] = Math.round((sizeBytes * LOAD_OVERHEAD) / MB);
  for (const { name, sizeBytes } of read.loaded) for (const entry of namesOf(name)) sizesMb[entry] = Math.round(sizeBytes / MB);
  return {
    backendId,
    models: servedNames({ kind: 'ollama', models: read.present.map((m) => m.name) }, entries),
    loaded: [...new Set(read.loaded.flatMap((m) => namesOf(m.name)))],
    sizesMb,
  };
}

export interface BackendResidencyView {
  id: string;
  name: string;
  pool: string;
  url: string;
  memoryBudgetMb: number | null;
  maxLoadedModels: number | null;
  models: Array<{ model: string; present: boolean; loaded: boolean; sizeBytes: number; expiresAt: Date | null; seenAt: Date }>;
}

export interface ResidencyView {
  backends: BackendResidencyView[];
  /** Enabled catalogue entries no Ollama backend of a pool has on disk: jobs there cannot run them. */
  missing: Array<{ pool: string; model: string; ollamaModel: string }>;
}

const backendSelect = {
  id: true,
  name: true,
  pool: true,
  url: true,
  models: true,
  memoryBudgetMb: true,
  maxLoadedModels: true,
  residency: { select: { model: true, present: true, loaded: true, sizeBytes: true, expiresAt: true, seenAt: true }, orderBy: { model: 'asc' } },
} satisfies Prisma.BackendSelect;

/** For the admin page: every enabled Ollama backend's last read, and what each pool lacks. */
export async function residencyView(prisma: PrismaClient): Promise<ResidencyView> {
  const [rows, entries] = await Promise.all([
    prisma.backend.findMany({ where: { kind: 'ollama', enabled: true }, select: backendSelect, orderBy: [{ pool: 'asc' }, { name: 'asc' }] }),
    prisma.catalogModel.findMany({ where: { enabled: true, ollamaModel: { not: null } }, select: { name: true, ollamaModel: true }, orderBy: { name: 'asc' } }),
  ]);
  const missing: ResidencyView['missing'] = [];
  for (const pool of [...new Set(rows.map((row) => row.pool))]) {
    const inPool = rows.filter((row) => row.pool === pool);
    for (const entry of entries) {
      if (!inPool.some((row) => row.models.some((model) => sameOllamaModel(model, entry.ollamaModel!)))) {
        missing.push({ pool, model: entry.name, ollamaModel: entry.ollamaModel! });
      }
    }
  }
  return {
    backends: rows.map(({ residency, models: _models, ...row }) => ({
      ...row,
      models: residency.map((r) => ({ ...r, sizeBytes: Number(r.sizeBytes) })),
    })),
    missing,
  };
}
