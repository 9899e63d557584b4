import { z } from 'zod';
import type { SessionUser } from '../auth/session';
import { NotFoundError, ValidationError } from '../errors';
import { Prisma, type PrismaClient, type Tier } from '../generated/prisma/client';
import type { SchedulerNotice } from '../../workflows/scheduler/api';
import { loadServing } from './backends';
import { findCatalogEntry, usableEntries } from './catalog-mapping';
import { modelName, plainText, whole } from './text-input';

const price = (what: string) =>
  z
    .number({ error: `${what} must be a number.` })
    .min(0, `${what} cannot be negative.`)
    .max(1_000, `${what} must be at most 1,000 USD per 1,000 tokens.`);

/** What an admin sets on a catalogue model. The name is not among them: tiers and jobs refer to models by name. */
export const catalogModelFields = z.object({
  description: plainText('Description', 500),
  contextLength: whole('Context length').min(256, 'Context length must be at least 256 tokens.').max(10_000_000, 'Context length must be at most 10,000,000 tokens.'),
  inputPricePer1k: price('Input price'),
  outputPricePer1k: price('Output price'),
  maxOutputTokens: whole('Output cap').min(1, 'Output cap must be at least 1 token.').max(1_000_000, 'Output cap must be at most 1,000,000 tokens.'),
  /** null: Ollama backends do not serve it. */
  ollamaModel: modelName('Ollama model').nullable(),
  /** null: OpenAI-compatible backends do not serve it. */
  openaiModel: modelName('OpenAI model').nullable(),
  enabled: z.boolean(),
});
export type CatalogModelSettings = z.infer<typeof catalogModelFields>;

/** Rules across fields, applied once the procedures have added their own fields. */
export function checkCatalogModel(settings: CatalogModelSettings, ctx: z.RefinementCtx): void {
  if (!settings.ollamaModel && !settings.openaiModel) {
    ctx.addIssue({ code: 'custom', path: ['ollamaModel'], message: 'Map the model on at least one kind of backend (Ollama, OpenAI-compatible or both).' });
  }
  if (settings.maxOutputTokens > settings.contextLength) {
    ctx.addIssue({ code: 'custom', path: ['maxOutputTokens'], message: 'The output cap cannot exceed the context length.' });
  }
}

export const catalogModelName = modelName('Name');

const catalogModelSelect = {
  id: true,
  name: true,
  description: true,
  contextLength: true,
  inputPricePer1k: true,
  outputPricePer1k: true,
  maxOutputTokens: true,
  ollamaModel: true,
  openaiModel: true,
  enabled: true,
  updatedAt: true,
} satisfies Prisma.CatalogModelSelect & Record<keyof CatalogModelSettings, true>;

type CatalogModelRow = Prisma.CatalogModelGetPayload<{ select: typeof catalogModelSelect }>;

interface CatalogDeps {
  prisma: PrismaClient;
  /** What a submit without a model runs: offered first. */
  defaultModel: string;
  /** Hands the scheduler the setup as it is now: a mapping decides which backends serve a model. */
  tellScheduler(): Promise<SchedulerNotice>;
}

/**
 * The model catalogue: what users choose and what each kind of backend serves it as. Admins edit
 * it (every change audited with before and after); teams are offered what their tier can use.
 */
export function createCatalogService({ prisma, defaultModel, tellScheduler }: CatalogDeps) {
  const audit = (actor: SessionUser, action: string, targetId: string, data: Prisma.InputJsonValue) =>
    prisma.auditLog.create({ data: { actorId: actor.id, action, targetType: 'catalogModel', targetId, data } });

  /** Each model with the enabled backends that serve it and the tiers that name it. */
  async function withUse(models: CatalogModelRow[]) {
    const [{ backends }, tiers] = await Promise.all([
      loadServing(prisma),
      prisma.tier.findMany({ select: { name: true, allowedModels: true }, orderBy: { name: 'asc' } }),
    ]);
    return models.map((model) => ({
      ...model,
      servedBy: backends.filter((b) => b.models.includes(model.name)).map((b) => ({ id: b.id, pool: b.pool })),
      tiers: tiers.filter((t) => t.allowedModels.includes(model.name)).map((t) => t.name),
    }));
  }

  async function requireModel(modelId: string): Promise<CatalogModelRow> {
    const model = await prisma.catalogModel.findUnique({ where: { id: modelId }, select: catalogModelSelect });
    if (!model) throw new NotFoundError('model');
    return model;
  }

  const taken = (name: string, existing: string) =>
    new ValidationError(existing === name ? `${name} is already in the catalogue.` : `${name} is already in the catalogue as ${existing}.`, 'name');

  return {
    async list() {
      return withUse(await prisma.catalogModel.findMany({ select: catalogModelSelect, orderBy: { name: 'asc' } }));
    },

    async get(modelId: string) {
      const [model] = await withUse([await requireModel(modelId)]);
      return model!;
    },

    /** Names that Ollama would take for one another (`tiny-stop`, `tiny-stop:latest`) are one entry. */
    async create(actor: SessionUser, name: string, settings: CatalogModelSettings) {
      const clash = findCatalogEntry(await prisma.catalogModel.findMany({ select: { name: true } }), name);
      if (clash) throw taken(name, clash.name);
      const model = await prisma.catalogModel.create({ data: { name, ...settings }, select: catalogModelSelect }).catch((error: unknown) => {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw taken(name, name);
        throw error;
      });
      await audit(actor, 'catalog.create', model.id, { name, after: settings });
      return { model, scheduler: await tellScheduler() };
    },

    async update(actor: SessionUser, modelId: string, settings: CatalogModelSettings) {
      const before = await requireModel(modelId);
      const model = await prisma.catalogModel.update({ where: { id: modelId }, data: settings, select: catalogModelSelect });
      const changed = (Object.keys(settings) as (keyof CatalogModelSettings)[]).filter((key) => before[key] !== settings[key]);
      await audit(actor, 'catalog.update', modelId, {
        name: model.name,
        before: Object.fromEntries(changed.map((key) => [key, before[key]])),
        after: Object.fromEntries(changed.map((key) => [key, settings[key]])),
      });
      return { model, scheduler: await tellScheduler() };
    },

    /**
     * Only a model no tier names and no unfinished job uses: a name would otherwise point at
     * nothing. Disabling it instead stops new jobs and lets the admitted ones finish.
     */
    async remove(actor: SessionUser, modelId: string) {
      const before = await requireModel(modelId);
      const [tiers, unfinished] = await Promise.all([
        prisma.tier.findMany({ where: { allowedModels: { has: before.name } }, select: { name: true }, orderBy: { name: 'asc' } }),
        prisma.job.count({ where: { model: before.name, status: { in: ['queued', 'running'] } } }),
      ]);
      if (tiers.length > 0) {
        throw new ValidationError(`The ${tiers.map((t) => t.name).join(', ')} tier${tiers.length === 1 ? '' : 's'} allow ${before.name}; remove it there first, or disable it.`);
      }
      if (unfinished > 0) throw new ValidationError(`${unfinished} unfinished job${unfinished === 1 ? '' : 's'} use ${before.name}; disable it instead, or wait for them.`);
      await prisma.catalogModel.delete({ where: { id: modelId } });
      const { id: _id, updatedAt: _updatedAt, name, ...settings } = before;
      await audit(actor, 'catalog.delete', modelId, { name, before: settings });
      return { scheduler: await tellScheduler() };
    },

    /** The models a tier's teams can submit now (see catalog-mapping.ts, usableEntries), the default first. */
    async offeredTo(tier: Pick<Tier, 'allowedModels' | 'poolPreference' | 'cloudFallback'>): Promise<{ name: string; description: string }[]> {
      const [{ entries, backends }, descriptions] = await Promise.all([
        loadServing(prisma),
        prisma.catalogModel.findMany({ select: { name: true, description: true } }),
      ]);
      const described = new Map(descriptions.map((model) => [model.name, model.description]));
      return usableEntries(tier, entries, backends)
        .map(({ name }) => ({ name, description: described.get(name) ?? '' }))
        .sort((a, b) => Number(b.name === defaultModel) - Number(a.name === defaultModel));
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
