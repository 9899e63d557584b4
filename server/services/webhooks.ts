import { z } from 'zod';
import type { Keyring } from '../crypto/keyring';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { SessionUser } from '../auth/session';
import { NotFoundError, ValidationError } from '../errors';
import type { UrlAllowlist } from '../net/allowlist';
import { JOB_EVENTS } from '../webhooks/events';
import type { ProjectService } from './projects';
import { wellFormed } from './text-input';

/**
 * Projects' webhooks (docs/notifications.md). Team owners add, edit and remove them and read their
 * deliveries; members see none of it, other teams nothing at all (tenancy in every `where`). A
 * URL must pass WEBHOOK_URL_ALLOWLIST; the secret is sealed with the keyring and never leaves
 * the server again. Every change is audited, the secret never in the record.
 */

const url = z.string().trim().min(1, 'Enter the URL to deliver to.').max(2_000, 'The URL must be at most 2,000 characters.');
const secret = wellFormed(
  z.string().min(16, 'The secret must be at least 16 characters.').max(256, 'The secret must be at most 256 characters.'),
  'The secret',
).refine((text) => text.trim() === text, 'The secret must not start or end with spaces.');
const events = z
  .array(z.enum(JOB_EVENTS, { error: `Events are ${JOB_EVENTS.join(', ')}.` }))
  .min(1, 'Choose at least one event.')
  .transform((list) => [...new Set(list)]);

export const webhookCreateInput = z.object({ projectId: z.uuid(), url, secret, events });
export const webhookUpdateInput = z.object({
  webhookId: z.uuid(),
  url: url.optional(),
  /** A new secret; unset keeps the current one. */
  secret: secret.optional(),
  events: events.optional(),
  enabled: z.boolean().optional(),
});
export type WebhookCreateInput = z.infer<typeof webhookCreateInput>;
export type WebhookUpdateInput = z.infer<typeof webhookUpdateInput>;

/** Deliveries shown per webhook: the latest. */
const SHOWN_DELIVERIES = 20;

const webhookSelect = {
  id: true,
  projectId: true,
  url: true,
  events: true,
  enabled: true,
  createdAt: true,
  updatedAt: true,
  project: { select: { teamId: true } },
} satisfies Prisma.WebhookSelect;

const deliverySelect = {
  id: true,
  event: true,
  jobId: true,
  status: true,
  createdAt: true,
  deliveredAt: true,
  attempts: { select: { attempt: true, statusCode: true, error: true, durationMs: true, at: true }, orderBy: { attempt: 'asc' } },
} satisfies Prisma.WebhookDeliverySelect;

/** Projects whose team `userId` owns. */
const ownedBy = (userId: string) => ({ team: { memberships: { some: { userId, role: 'owner' } } } }) satisfies Prisma.ProjectWhereInput;

interface WebhookServiceDeps {
  prisma: PrismaClient;
  keyring: Keyring;
  allowlist: UrlAllowlist;
  projects: ProjectService;
}

export function createWebhookService({ prisma, keyring, allowlist, projects }: WebhookServiceDeps) {
  const audit = (user: SessionUser, teamId: string, action: string, webhookId: string, data: Prisma.InputJsonValue) =>
    prisma.auditLog.create({ data: { actorId: user.id, teamId, action, targetType: 'webhook', targetId: webhookId, data } });

  async function allowedUrl(raw: string): Promise<string> {
    const checked = await allowlist.check(raw);
    if (!checked.ok) throw new ValidationError(checked.reason, 'url');
    return checked.url;
  }

  async function requireOwned(user: SessionUser, webhookId: string) {
    const hook = await prisma.webhook.findFirst({ where: { id: webhookId, project: ownedBy(user.id) }, select: webhookSelect });
    if (!hook) throw new NotFoundError('webhook');
    return hook;
  }

  /** What the audit log keeps of a webhook: never its secret. */
  const audited = ({ url, events, enabled }: { url: string; events: string[]; enabled: boolean }) => ({ url, events, enabled });
  const shown = ({ project: _project, ...hook }: Prisma.WebhookGetPayload<{ select: typeof webhookSelect }>) => hook;

  return {
    /** A project's webhooks with their latest deliveries, for its team's owners; members get `canManage: false` and none. */
    async list(user: SessionUser, projectId: string) {
      await projects.require(user.id, projectId);
      const owned = await prisma.project.count({ where: { id: projectId, ...ownedBy(user.id) } });
      if (owned === 0) return { canManage: false, webhooks: [] };
      const webhooks = await prisma.webhook.findMany({
        where: { projectId, project: ownedBy(user.id) },
        select: { ...webhookSelect, deliveries: { select: deliverySelect, orderBy: { createdAt: 'desc' }, take: SHOWN_DELIVERIES } },
        orderBy: { createdAt: 'asc' },
      });
      return { canManage: true, webhooks: webhooks.map(({ project: _project, ...hook }) => hook) };
    },

    async create(user: SessionUser, input: WebhookCreateInput) {
      const project = await prisma.project.findFirst({ where: { id: input.projectId, ...ownedBy(user.id) }, select: { id: true, teamId: true } });
      if (!project) throw new NotFoundError('project');
      const hook = await prisma.webhook.create({
        data: { projectId: project.id, url: await allowedUrl(input.url), secretSealed: keyring.sealText(input.secret), events: input.events, createdById: user.id },
        select: webhookSelect,
      });
      await audit(user, project.teamId, 'webhook.create', hook.id, { projectId: project.id, after: audited(hook) });
      return shown(hook);
    },

    async update(user: SessionUser, input: WebhookUpdateInput) {
      const before = await requireOwned(user, input.webhookId);
      const hook = await prisma.webhook.update({
        where: { id: before.id },
        data: {
          ...(input.url !== undefined ? { url: await allowedUrl(input.url) } : {}),
          ...(input.secret !== undefined ? { secretSealed: keyring.sealText(input.secret) } : {}),
          ...(input.events !== undefined ? { events: input.events } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        },
        select: webhookSelect,
      });
      await audit(user, before.project.teamId, 'webhook.update', hook.id, {
        projectId: hook.projectId,
        before: audited(before),
        after: audited(hook),
        secretChanged: input.secret !== undefined,
      });
      return shown(hook);
    },

    async remove(user: SessionUser, webhookId: string) {
      const before = await requireOwned(user, webhookId);
      await prisma.webhook.delete({ where: { id: before.id } });
      await audit(user, before.project.teamId, 'webhook.delete', before.id, { projectId: before.projectId, before: audited(before) });
      return { id: before.id };
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
