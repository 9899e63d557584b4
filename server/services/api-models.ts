import type { PrismaClient, Tier } from '../generated/prisma/client';
import { sameOllamaModel } from '../llm/model-names';
import { loadServing } from './backends';
import { usableEntries } from './catalog-mapping';

export interface ApiModel {
  /** The catalogue name: what a request asks for. */
  name: string;
  contextLength: number;
  modifiedAt: Date;
  /** On an Ollama backend: its files (listing) or its memory (loaded); 0 when only the cloud serves it. */
  sizeBytes: number;
  /** Loaded models: when Ollama unloads it if unused (null: kept). */
  expiresAt: Date | null;
}

/**
 * The catalogue as the compatible APIs list it: what a key's tier may ask for now, and which of
 * those an Ollama backend holds in memory — read from the stored residency (what the resource
 * loop last read from each backend's /api/tags and /api/ps), not from the backends or the scheduler.
 */
export function createApiModels(prisma: PrismaClient) {
  async function usable(tier: Tier) {
    const { entries, backends } = await loadServing(prisma);
    const names = usableEntries(tier, entries, backends).map((entry) => entry.name);
    const [rows, residency] = await Promise.all([
      prisma.catalogModel.findMany({ where: { name: { in: names } }, select: { name: true, contextLength: true, ollamaModel: true, updatedAt: true }, orderBy: { name: 'asc' } }),
      prisma.backendResidency.findMany({ where: { backend: { enabled: true } }, select: { model: true, present: true, loaded: true, sizeBytes: true, expiresAt: true } }),
    ]);
    return rows.map((row) => ({ row, copies: row.ollamaModel ? residency.filter((r) => sameOllamaModel(r.model, row.ollamaModel!)) : [] }));
  }

  const toModel = (row: { name: string; contextLength: number; updatedAt: Date }, sizeBytes: bigint | number, expiresAt: Date | null): ApiModel => ({
    name: row.name,
    contextLength: row.contextLength,
    modifiedAt: row.updatedAt,
    sizeBytes: Number(sizeBytes),
    expiresAt,
  });

  return {
    async list(tier: Tier): Promise<ApiModel[]> {
      return (await usable(tier)).map(({ row, copies }) => toModel(row, copies.find((c) => c.present)?.sizeBytes ?? 0, null));
    },

    /** Latest expiry first, as Ollama sorts /api/ps. */
    async loaded(tier: Tier): Promise<ApiModel[]> {
      const loaded = (await usable(tier)).flatMap(({ row, copies }) => {
        const copy = copies.filter((c) => c.loaded).sort((a, b) => (b.expiresAt?.getTime() ?? Infinity) - (a.expiresAt?.getTime() ?? Infinity))[0];
        return copy ? [toModel(row, copy.sizeBytes, copy.expiresAt)] : [];
      });
      return loaded.sort((a, b) => (b.expiresAt?.getTime() ?? Infinity) - (a.expiresAt?.getTime() ?? Infinity));
    },
  };
}

export type ApiModels = ReturnType<typeof createApiModels>;
