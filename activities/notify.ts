import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Keyring } from '../server/crypto/keyring';
import type { PrismaClient } from '../server/generated/prisma/client';
import type { JobKind, JobStatus } from '../server/generated/prisma/enums';
import type { UrlAllowlist } from '../server/net/allowlist';
import { userRoom, type NotificationEvent, type Publisher } from '../server/realtime/events';
import { jobTitle, type JobEvent, type WebhookPayload } from '../server/webhooks/events';
import { postWebhook } from '../server/webhooks/post';
import { signDelivery } from '../server/webhooks/signature';
import { webhookDeliveryWorkflowId, type WebhookDeliveryInput } from '../workflows/definitions';

/** A receiver that has not answered by then is counted as failed, and tried again. */
const DELIVERY_TIMEOUT_MS = 10_000;

const NOTIFIED_TITLE: Record<JobEvent, string> = {
  'job.completed': 'Completed',
  'job.failed': 'Failed',
  'job.cancelled': 'Cancelled',
  'job.awaiting_approval': 'Waiting for your approval',
};

export interface NotifyDeps {
  prisma: PrismaClient;
  publisher: Publisher;
  temporal: Client;
  /** Opens webhooks' sealed secrets. */
  keyring: Keyring;
  /** Where webhooks may deliver (WEBHOOK_URL_ALLOWLIST), checked again at each attempt. */
  webhookUrls: UrlAllowlist;
}

/**
 * Tells people and a project's webhooks of a job's event: its end, or its wait for someone.
 * Called from the activities that record the event (inside the job's workflow, so its run id and
 * task queue are at hand); idempotent, as they may be retried: one notification per person and
 * one delivery per webhook, per run and event. `to` are the people told in the app; unset, the
 * author — except of a cancellation, which whoever cancelled knows and which is only the
 * webhooks' news. API requests (chat jobs) tell no one: their client holds the answer's
 * connection. A collaboration's steps tell no one either: their collaboration does.
 */
export function createNotifier({ prisma, publisher, temporal }: Pick<NotifyDeps, 'prisma' | 'publisher' | 'temporal'>) {
  return async function announce(jobId: string, event: JobEvent, to?: string[]): Promise<void> {
    const { workflowExecution, taskQueue } = Context.current().info;
    if (!workflowExecution) throw ApplicationFailure.nonRetryable('announce runs inside a job’s workflow', 'InvalidJob');
    const { runId } = workflowExecution;
    const job = await announcedJob(prisma, jobId, event);
    if (job.kind === 'chat' || job.parentId !== null) return;
    const title = jobTitle(job.requirements);

    const told = to ?? (event === 'job.cancelled' ? [] : [job.userId]);
    if (told.length > 0) {
      const created = await prisma.notification.createManyAndReturn({
        data: [...new Set(told)].map((userId) => ({ userId, jobId, runId, event, title: `${NOTIFIED_TITLE[event]}: ${title}` })),
        skipDuplicates: true,
        select: { id: true, userId: true, event: true, title: true, createdAt: true },
      });
      for (const row of created) {
        const pushed: NotificationEvent = { id: row.id, jobId, projectId: job.projectId, event: row.event, title: row.title, createdAt: row.createdAt.toISOString() };
        publisher.emit(userRoom(row.userId), 'notification', pushed);
      }
    }

    // Most projects have no webhook listening: the payload's names are read only for one that does
    // (each relation of the job would otherwise be a query of its own, for every job).
    if (job.webhookIds.length === 0) return;
    const [author, project] = await Promise.all([
      prisma.user.findUniqueOrThrow({ where: { id: job.userId }, select: { name: true } }),
      prisma.project.findUniqueOrThrow({ where: { id: job.projectId }, select: { name: true } }),
    ]);
    const payload: WebhookPayload = {
      id: `${jobId}:${runId}:${event}`,
      event,
      createdAt: new Date().toISOString(),
      project: { id: job.projectId, name: project.name },
      job: {
        id: jobId,
        status: job.status,
        model: job.model,
        title,
        author: author.name,
        completionTokens: job.completionTokens,
        error: job.error,
        createdAt: job.createdAt.toISOString(),
        finishedAt: job.finishedAt?.toISOString() ?? null,
      },
    };
    const body = JSON.stringify(payload);
    await prisma.webhookDelivery.createMany({
      data: job.webhookIds.map((webhookId) => ({ webhookId, jobId, runId, event, body })),
      skipDuplicates: true,
    });
    // Pending ones include any a failed earlier try of this activity wrote but did not start.
    const pending = await prisma.webhookDelivery.findMany({ where: { jobId, runId, event, status: 'pending' }, select: { id: true } });
    for (const { id } of pending) {
      try {
        // By name: activities do not import the workflows' module (it imports theirs).
        await temporal.workflow.start('webhookDeliveryWorkflow', {
          taskQueue,
          workflowId: webhookDeliveryWorkflowId(id),
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [{ deliveryId: id } satisfies WebhookDeliveryInput],
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    }
  };
}
export type Announce = ReturnType<typeof createNotifier>;

/** What announcing a job reads of its row, and its project's enabled webhooks that receive `event`. */
interface AnnouncedJob {
  kind: JobKind;
  parentId: string | null;
  userId: string;
  projectId: string;
  status: JobStatus;
  model: string;
  requirements: string;
  completionTokens: number;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  webhookIds: string[];
}

/** The job and the ids of its webhooks in one statement: a Prisma read and a webhook query were two, for every job. */
async function announcedJob(prisma: PrismaClient, jobId: string, event: JobEvent): Promise<AnnouncedJob> {
  const [job] = await prisma.$queryRaw<AnnouncedJob[]>`
    SELECT j."kind"::text AS "kind", j."parentId"::text AS "parentId", j."userId"::text AS "userId", j."projectId"::text AS "projectId",
      j."status"::text AS "status", j."model", j."requirements", j."completionTokens", j."error", j."createdAt", j."finishedAt",
      ARRAY(SELECT w."id"::text FROM "Webhook" w WHERE w."projectId" = j."projectId" AND w."enabled" AND ${event} = ANY(w."events")) AS "webhookIds"
    FROM "Job" j WHERE j."id" = ${jobId}::uuid`;
  if (!job) throw new Error(`job ${jobId} does not exist`);
  return job;
}

export function createWebhookActivities({ prisma, keyring, webhookUrls }: Pick<NotifyDeps, 'prisma' | 'keyring' | 'webhookUrls'>) {
  return {
    /**
     * One attempt at a delivery, recorded with its outcome. A failed attempt throws, and Temporal
     * tries again after its backoff; the last one (`maxAttempts`) marks the delivery failed
     * instead. A delivery already made, or whose webhook is gone, is not sent again.
     */
    async deliverWebhook({ deliveryId, maxAttempts }: { deliveryId: string; maxAttempts: number }): Promise<'delivered' | 'failed' | 'gone'> {
      const attempt = Context.current().info.attempt;
      const delivery = await prisma.webhookDelivery.findUnique({
        where: { id: deliveryId },
        select: { status: true, event: true, body: true, webhook: { select: { url: true, secretSealed: true, enabled: true } } },
      });
      if (!delivery || !delivery.webhook.enabled) return 'gone';
      if (delivery.status !== 'pending') return delivery.status;

      const timestamp = Math.floor(Date.now() / 1000);
      const started = performance.now();
      const { statusCode, error } = await postWebhook(
        webhookUrls,
        delivery.webhook.url,
        delivery.body,
        {
          'user-agent': 'Switchyard-Webhooks/1',
          'x-switchyard-event': delivery.event,
          'x-switchyard-delivery': deliveryId,
          'x-switchyard-timestamp': String(timestamp),
          'x-switchyard-signature': signDelivery(keyring.openText(delivery.webhook.secretSealed), timestamp, delivery.body),
        },
        DELIVERY_TIMEOUT_MS,
      );
      const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
      const outcome = ok ? 'delivered' : attempt >= maxAttempts ? 'failed' : 'pending';
      await prisma.$transaction([
        prisma.webhookAttempt.upsert({
          where: { deliveryId_attempt: { deliveryId, attempt } },
          create: { deliveryId, attempt, statusCode, error: ok ? null : (error ?? `answered ${statusCode}`), durationMs: Math.round(performance.now() - started) },
          update: {},
        }),
        prisma.webhookDelivery.update({ where: { id: deliveryId }, data: { status: outcome, ...(ok ? { deliveredAt: new Date() } : {}) } }),
      ]);
      if (outcome === 'pending') throw ApplicationFailure.retryable(error ?? `the receiver answered ${statusCode}`, 'WebhookNotAccepted');
      return outcome;
    },
  };
}
