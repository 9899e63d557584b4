import type { PrismaClient, Tier } from '../generated/prisma/client';
import { sameOllamaModel } from '../llm/model-names';
import { loadServing } from './backends';
import { usableEntries, type CatalogEntry } from './catalog-mapping';
import type { QueueService } from './queue';

/** The catalogue as the compatible APIs list it: what a key's tier may ask for, and what is loaded now. */
export function createApiModels({ prisma, queue }: { prisma: PrismaClient; queue: QueueService }) {
  async function usable(tier: Tier): Promise<CatalogEntry[]> {
    const { entries, backends } = await loadServing(prisma);
    return usableEntries(tier, entries, backends);
  }

  return {
    usable,

    /**
     * The usable entries some Ollama backend has in memory, with the backends' own names, as the
     * scheduler last saw them; none while it cannot say (this is a listing, not worth a 500).
     */
    async loaded(tier: Tier): Promise<CatalogEntry[]> {
      const [entries, snap] = await Promise.all([usable(tier), queue.snapshot([]).catch(() => null)]);
      const resident = (snap?.pools ?? []).flatMap((pool) => pool.backends.flatMap((backend) => backend.loadedModels));
      return entries.filter((entry) => entry.ollamaModel !== null && resident.some((name) => sameOllamaModel(name, entry.ollamaModel!)));
    },
  };
}

export type ApiModels = ReturnType<typeof createApiModels>;
