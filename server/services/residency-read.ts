import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { ResidencyRead } from '../llm/types';
import { sameOllamaModel } from '../llm/model-names';
import type { ResidencyReport } from '../../workflows/scheduler/core';
import { servedNames, type CatalogEntry } from './catalog-mapping';

/**
 * One read of an Ollama backend's residency, as the resource loop's activity stores it and hands it
 * to the scheduler (docs/residency.md). Apart from the admin service so that activities need not
 * import it.
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
  const backend = await prisma.backend.findUnique({ where: { id: backendId }, select: { models: true } });
  if (!backend) return;
  const changed = backend.models.length !== present.length || backend.models.some((model, i) => model !== present[i]);
  await prisma.$transaction([
    prisma.backendResidency.deleteMany({ where: { backendId } }),
    prisma.backendResidency.createMany({ data: [...rows.values()] }),
    ...(changed ? [prisma.backend.update({ where: { id: backendId }, data: { models: present } })] : []),
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
