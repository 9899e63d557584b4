import { z } from 'zod';
import type { SessionUser } from '../auth/session';
import type { Keyring } from '../crypto/keyring';
import { NotFoundError, ValidationError } from '../errors';
import { Prisma, type Backend, type PrismaClient } from '../generated/prisma/client';
import { backendIdFor, createBackendClient, type BackendSpec, type BootstrapBackend } from '../llm/config';
import type { UrlAllowlist } from '../net/allowlist';
import type { SchedulerNotice, SchedulerStatus } from '../../workflows/scheduler/api';
import type { BackendInit } from '../../workflows/scheduler/core';
import { catalogEntrySelect, servedNames, type CatalogEntry } from './catalog-mapping';
import { plainText, whole } from './text-input';

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
 * The catalogue, and the enabled backends not draining as the scheduler sees them: one read for the scheduler's
 * setup, admission and the models a team is offered, so all three agree on what is served.
 */
export async function loadServing(db: Pick<PrismaClient, 'catalogModel' | 'backend'>): Promise<{ entries: CatalogEntry[]; backends: BackendInit[] }> {
  const [entries, rows] = await Promise.all([
    db.catalogModel.findMany({ select: catalogEntrySelect, orderBy: { name: 'asc' } }),
    // A draining backend is left out: the scheduler forgets it and grants it nothing, while the
    // leases it holds run to their end (they are kept by job, not by backend).
    db.backend.findMany({ where: { enabled: true, draining: false }, orderBy: { id: 'asc' } }),
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

/** The models a backend reports, or none while it cannot be reached (they are read again on the next edit or start). */
async function reportedModels(spec: BackendSpec): Promise<string[]> {
  return createBackendClient(spec)
    .listModels()
    .then((list) => list.map((m) => m.name))
    .catch(() => []);
}

/**
 * Records the backends the environment names, when the table has none at their URL or id yet: a
 * fresh install starts with them, and from then on the stored rows are the truth admins edit.
 * A known one only refreshes the models it reports.
 */
export async function bootstrapBackends(prisma: PrismaClient, keyring: Keyring, backends: readonly BootstrapBackend[]): Promise<void> {
  for (const backend of backends) {
    const existing = await prisma.backend.findFirst({ where: { OR: [{ id: backend.id }, { url: backend.url }] }, select: { id: true, url: true, kind: true, apiKeySealed: true } });
    if (existing) {
      const models = await reportedModels({ ...existing, apiKey: existing.apiKeySealed && keyring.openText(existing.apiKeySealed) });
      if (models.length > 0) await prisma.backend.update({ where: { id: existing.id }, data: { models } });
      continue;
    }
    const { id, kind, url, pool, slots, prefetch, apiKey } = backend;
    await prisma.backend
      .create({
        data: { id, kind, name: defaultBackendName(url), url, pool, slots, prefetch, models: await reportedModels(backend), ...sealedKey(keyring, apiKey) },
      })
      // Another worker starting at the same moment recorded it first.
      .catch((error: unknown) => {
        if (!(error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002')) throw error;
      });
  }
}

function sealedKey(keyring: Keyring, apiKey: string | null | undefined) {
  return apiKey ? { apiKeySealed: keyring.sealText(apiKey), apiKeyLast4: apiKey.slice(-4) } : {};
}

const poolName = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'Pool: use 1–40 lower-case letters, digits and dashes, starting with a letter or digit.');
const perMinute = (what: string) => whole(what).min(1, `${what} must be at least 1 (leave it empty for no limit).`).max(1_000_000_000, `${what} is too large.`).nullable();

/** What an admin sets on a backend. Its kind is chosen once, at creation. */
export const backendFields = z.object({
  name: plainText('Name', 80).min(1, 'Name is required.'),
  url: plainText('URL', 2_000).min(1, 'URL is required.'),
  pool: poolName,
  slots: whole('Slots').min(1, 'Slots must be between 1 and 256.').max(256, 'Slots must be between 1 and 256.'),
  /** Requests queued at the backend beyond its slots (pipelining); Ollama only. */
  prefetch: whole('Prefetch').min(0, 'Prefetch must be between 0 and 512.').max(512, 'Prefetch must be between 0 and 512.'),
  enabled: z.boolean(),
  /** Cloud endpoints: requests and tokens per minute; null: no limit. */
  rpmLimit: perMinute('Requests per minute'),
  tpmLimit: perMinute('Tokens per minute'),
  /** Cloud endpoints: a new key; absent keeps the stored one. Never returned. */
  apiKey: plainText('API key', 500).min(1, 'API key is empty.').regex(/^\S+$/, 'API key must not contain spaces.'),
});
export type BackendFields = z.infer<typeof backendFields>;

export const newBackendInput = backendFields
  .partial({ name: true, prefetch: true, enabled: true, rpmLimit: true, tpmLimit: true, apiKey: true })
  .extend({ kind: z.enum(['ollama', 'openai'], { error: 'Kind must be ollama or openai (OpenAI-compatible).' }) });
export type NewBackend = z.infer<typeof newBackendInput>;
export type BackendUpdate = Partial<BackendFields>;

/** What a browser may see of a backend: never the sealed key, only its last four characters. */
const backendSelect = {
  id: true,
  kind: true,
  name: true,
  url: true,
  pool: true,
  slots: true,
  prefetch: true,
  models: true,
  enabled: true,
  draining: true,
  rpmLimit: true,
  tpmLimit: true,
  apiKeyLast4: true,
  updatedAt: true,
} satisfies Prisma.BackendSelect;
type BackendRow = Prisma.BackendGetPayload<{ select: typeof backendSelect }>;

/** A backend as the audit log records it: the key only as its last four characters. */
function audited(row: BackendRow) {
  const { id: _id, updatedAt: _updatedAt, models: _models, apiKeyLast4, ...rest } = row;
  return { ...rest, prefetch: effectivePrefetch(row), apiKey: apiKeyLast4 ? `…${apiKeyLast4}` : null };
}

/**
 * `serving`; `draining` while jobs it was granted still run; `drained` once none does (safe to
 * remove); `disabled` by an admin.
 */
export type BackendState = 'serving' | 'draining' | 'drained' | 'disabled';

function stateOf(row: Pick<BackendRow, 'enabled' | 'draining'>, runningJobs: number): BackendState {
  if (row.draining) return runningJobs > 0 ? 'draining' : 'drained';
  return row.enabled ? 'serving' : 'disabled';
}

async function runningJobsBy(prisma: Pick<PrismaClient, 'job'>, backendIds: string[]): Promise<Map<string, number>> {
  const groups = await prisma.job.groupBy({ by: ['backendId'], where: { status: 'running', backendId: { in: backendIds } }, _count: { _all: true } });
  return new Map(groups.map((g) => [g.backendId!, g._count._all]));
}

/** A backend as the scale hook reads it on stdin (docs/backends.md, "Scale hooks"): no key, not even its last four characters. */
export interface CatalogueBackend {
  id: string;
  name: string;
  kind: Backend['kind'];
  url: string;
  pool: string;
  slots: number;
  state: BackendState;
  runningJobs: number;
}

/** Every stored backend with its state, for the scale hook: what runs where, and what is drained and can go. */
export async function backendCatalogue(prisma: Pick<PrismaClient, 'backend' | 'job'>): Promise<CatalogueBackend[]> {
  const rows = await prisma.backend.findMany({
    select: { id: true, name: true, kind: true, url: true, pool: true, slots: true, enabled: true, draining: true },
    orderBy: [{ pool: 'asc' }, { url: 'asc' }],
  });
  const running = await runningJobsBy(prisma, rows.map((r) => r.id));
  return rows.map(({ enabled, draining, ...row }) => {
    const runningJobs = running.get(row.id) ?? 0;
    return { ...row, state: stateOf({ enabled, draining }, runningJobs), runningJobs };
  });
}

interface BackendServiceDeps {
  prisma: PrismaClient;
  keyring: Keyring;
  allowlist: UrlAllowlist;
  /** Hands the scheduler the stored setup (server/temporal/scheduler.ts). */
  tellScheduler(): Promise<SchedulerNotice>;
  /** What the scheduler sees now; null while it cannot answer. */
  schedulerStatus(): Promise<SchedulerStatus | null>;
}

/** Who made a change: an admin, or an instance registering itself with the registration token. */
export type BackendActor = SessionUser | 'registration';

/**
 * Backends as live configuration: admins (and registering instances) add, edit, drain and remove
 * them while everything runs. Every change is audited with before and after (keys redacted) and
 * handed to the scheduler at once; workers pick the rows up within BACKEND_REFRESH_MS
 * (server/llm/live-registry.ts). docs/backends.md tells the whole story.
 */
export function createBackendService({ prisma, keyring, allowlist, tellScheduler, schedulerStatus }: BackendServiceDeps) {
  const audit = (actor: BackendActor, action: string, targetId: string, data: Prisma.InputJsonValue) =>
    prisma.auditLog.create({ data: { actorId: actor === 'registration' ? null : actor.id, action, targetType: 'backend', targetId, data } });

  async function requireBackend(backendId: string): Promise<BackendRow & { apiKeySealed: string | null }> {
    const row = await prisma.backend.findUnique({ where: { id: backendId }, select: { ...backendSelect, apiKeySealed: true } });
    if (!row) throw new NotFoundError('backend');
    return row;
  }

  /** The URL as stored, once the allow-list admits it and no other backend has it. */
  async function requireUsableUrl(raw: string, except?: string): Promise<string> {
    const checked = await allowlist.check(raw);
    if (!checked.ok) throw new ValidationError(checked.reason, 'url');
    const other = await prisma.backend.findFirst({ where: { url: checked.url, ...(except ? { id: { not: except } } : {}) }, select: { name: true } });
    if (other) throw new ValidationError(`The backend ${other.name} already has this URL.`, 'url');
    return checked.url;
  }

  function requireFitsKind(kind: Backend['kind'], change: Partial<Pick<BackendFields, 'prefetch' | 'apiKey' | 'rpmLimit' | 'tpmLimit'>>): void {
    if (kind === 'ollama') {
      if (change.apiKey !== undefined) throw new ValidationError('Ollama backends take no API key.', 'apiKey');
      if (change.rpmLimit != null) throw new ValidationError('Rate limits apply to cloud endpoints only.', 'rpmLimit');
      if (change.tpmLimit != null) throw new ValidationError('Rate limits apply to cloud endpoints only.', 'tpmLimit');
    } else if (change.prefetch !== undefined && change.prefetch > 0) {
      throw new ValidationError('Only Ollama backends queue requests: a cloud endpoint’s prefetch stays 0.', 'prefetch');
    }
  }

  const duplicateUrl = (error: unknown) => {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new ValidationError('Another backend already has this URL.', 'url');
    throw error;
  };

  async function withState(rows: BackendRow[]) {
    const [running, status] = await Promise.all([runningJobsBy(prisma, rows.map((r) => r.id)), schedulerStatus()]);
    const live = new Map(status?.backends.map((b) => [b.id, { running: b.running, queued: b.queued, up: b.up }]));
    return rows.map((row) => ({
      ...row,
      prefetch: effectivePrefetch(row),
      runningJobs: running.get(row.id) ?? 0,
      state: stateOf(row, running.get(row.id) ?? 0),
      live: live.get(row.id) ?? null,
    }));
  }

  async function create(actor: BackendActor, input: NewBackend) {
    requireFitsKind(input.kind, input);
    const url = await requireUsableUrl(input.url);
    let id = backendIdFor(input.kind, url);
    // An edited URL leaves its old id behind: a new backend at that address takes the next free one.
    for (let n = 2; await prisma.backend.findUnique({ where: { id }, select: { id: true } }); n++) id = `${backendIdFor(input.kind, url)}#${n}`;
    const apiKey = input.apiKey ?? null;
    const models = await reportedModels({ id, kind: input.kind, url, apiKey });
    const backend = await prisma.backend
      .create({
        data: {
          id,
          kind: input.kind,
          name: input.name ?? defaultBackendName(url),
          url,
          pool: input.pool,
          slots: input.slots,
          prefetch: input.kind === 'ollama' ? (input.prefetch ?? null) : null,
          enabled: input.enabled ?? true,
          rpmLimit: input.rpmLimit ?? null,
          tpmLimit: input.tpmLimit ?? null,
          models,
          ...sealedKey(keyring, apiKey),
        },
        select: backendSelect,
      })
      .catch(duplicateUrl);
    await audit(actor, 'backend.create', id, { name: backend.name, after: audited(backend) });
    return { backend, scheduler: await tellScheduler() };
  }

  async function setDraining(actor: BackendActor, backendId: string, draining: boolean) {
    const before = await requireBackend(backendId);
    if (before.draining === draining) return { backend: before, scheduler: await tellScheduler() };
    const backend = await prisma.backend.update({ where: { id: backendId }, data: { draining }, select: backendSelect });
    await audit(actor, draining ? 'backend.drain' : 'backend.undrain', backendId, { name: backend.name, before: { draining: !draining }, after: { draining } });
    return { backend, scheduler: await tellScheduler() };
  }

  return {
    /** Backends as stored, each with its state and what the scheduler sees of it now (null while it cannot answer). */
    async list() {
      return withState(await prisma.backend.findMany({ select: backendSelect, orderBy: [{ pool: 'asc' }, { name: 'asc' }, { id: 'asc' }] }));
    },

    async get(backendId: string) {
      const { apiKeySealed: _sealed, ...row } = await requireBackend(backendId);
      const [backend] = await withState([row]);
      return backend!;
    },

    create,

    async update(actor: SessionUser, backendId: string, change: BackendUpdate) {
      const before = await requireBackend(backendId);
      requireFitsKind(before.kind, change);
      const url = change.url === undefined ? before.url : await requireUsableUrl(change.url, backendId);
      const apiKey = change.apiKey ?? (before.apiKeySealed && keyring.openText(before.apiKeySealed));
      const moved = url !== before.url || change.apiKey !== undefined;
      const { apiKey: _key, url: _url, ...rest } = change;
      const backend = await prisma.backend
        .update({
          where: { id: backendId },
          data: {
            ...rest,
            url,
            ...sealedKey(keyring, change.apiKey),
            // A new address or key may serve other models: read them from there.
            ...(moved ? { models: await reportedModels({ id: backendId, kind: before.kind, url, apiKey }) } : {}),
          },
          select: backendSelect,
        })
        .catch(duplicateUrl);
      const [was, now] = [audited(before), audited(backend)];
      const changed = (Object.keys(now) as (keyof typeof now)[]).filter((key) => JSON.stringify(was[key]) !== JSON.stringify(now[key]));
      await audit(actor, 'backend.update', backendId, {
        name: backend.name,
        before: Object.fromEntries(changed.map((key) => [key, was[key]])),
        after: Object.fromEntries(changed.map((key) => [key, now[key]])),
      });
      return { backend, scheduler: await tellScheduler() };
    },

    /** Takes no new grants; what runs on it finishes. The list shows it draining, then drained. */
    drain: (actor: SessionUser, backendId: string) => setDraining(actor, backendId, true),
    undrain: (actor: SessionUser, backendId: string) => setDraining(actor, backendId, false),

    /** Only once nothing runs on it (drain it first): a running job would lose its backend mid-answer. */
    async remove(actor: SessionUser, backendId: string) {
      const before = await requireBackend(backendId);
      const running = (await runningJobsBy(prisma, [backendId])).get(backendId) ?? 0;
      if (running > 0) throw new ValidationError(`${running} job${running === 1 ? '' : 's'} run on ${before.name}; drain it and remove it once it is drained.`);
      await prisma.backend.delete({ where: { id: backendId } });
      await audit(actor, 'backend.delete', backendId, { name: before.name, before: audited(before) });
      return { scheduler: await tellScheduler() };
    },

    /**
     * An instance about to be removed (POST /api/backends/drain, the kubectl hook before scale-in):
     * drained, and its state returned, so the caller removes it once `drained`; null when no
     * backend has that URL (it never got a job: nothing to wait for).
     */
    async drainByUrl(rawUrl: string) {
      const checked = await allowlist.check(rawUrl);
      const known = checked.ok ? await prisma.backend.findUnique({ where: { url: checked.url }, select: { id: true } }) : null;
      if (!known) return null;
      await setDraining('registration', known.id, true);
      const { apiKeySealed: _sealed, ...row } = await requireBackend(known.id);
      const [backend] = await withState([row]);
      return backend!;
    },

    /**
     * A new instance announcing itself (POST /api/backends/register): added, or — when an
     * instance at that URL is known, say restarted — enabled and undrained again.
     */
    async register(input: NewBackend) {
      const checked = await allowlist.check(input.url);
      if (!checked.ok) throw new ValidationError(checked.reason, 'url');
      const known = await prisma.backend.findUnique({ where: { url: checked.url }, select: backendSelect });
      if (!known) return create('registration', input);
      if (known.kind !== input.kind) throw new ValidationError(`The backend ${known.name} at this URL is ${known.kind}, not ${input.kind}.`, 'kind');
      if (known.enabled && !known.draining) return { backend: known, scheduler: await tellScheduler() };
      const backend = await prisma.backend.update({ where: { id: known.id }, data: { enabled: true, draining: false }, select: backendSelect });
      await audit('registration', 'backend.register', known.id, { name: known.name, before: { enabled: known.enabled, draining: known.draining }, after: { enabled: true, draining: false } });
      return { backend, scheduler: await tellScheduler() };
    },
  };
}

export type BackendService = ReturnType<typeof createBackendService>;
