import type { Client } from '@temporalio/client';
import type { Keyring } from '../server/crypto/keyring';
import type { UrlAllowlist } from '../server/net/allowlist';
import type { PrismaClient } from '../server/generated/prisma/client';
import type { Publisher } from '../server/realtime/events';
import type { CatalogLookup } from '../server/services/catalog-lookup';
import type { JobMetrics } from '../server/metrics/jobs';
import { createCollaborationActivities } from './collaboration';
import { createGenerationActivities, type BackendRegistry } from './generate';
import { createNotifier, createWebhookActivities } from './notify';
import { createLengthBook, createProgress, createSpeedBook } from './progress';
import { createPullActivities } from './pull';
import { createRecordActivities } from './records';
import { createResourceActivities, type ResourceActivityDeps, type ScaleHookConfig } from './resources';
import { createReviewActivities } from './review';
import { createReviewJobActivities } from './review-items';
import { createSchedulerActivities, type SchedulerActivityDeps } from './scheduler';

export interface ActivityDeps {
  prisma: PrismaClient;
  publisher: Publisher;
  backends: BackendRegistry;
  /** The model catalogue, read through a short cache (server/services/catalog-lookup.ts). */
  catalog: CatalogLookup;
  /** Where jobs' starts, ends, tokens and latencies are counted (server/metrics/jobs.ts). */
  metrics: JobMetrics;
  temporal: Client;
  startScheduler: SchedulerActivityDeps['startScheduler'];
  flushIntervalMs?: number;
  /** SCALE_HOOK_COMMAND and its timeout; no hook when omitted. */
  scaleHook?: ScaleHookConfig;
  /** The stored backends as the scale hook gets them (server/services/backends.ts, backendCatalogue). */
  backendCatalogue: ResourceActivityDeps['backendCatalogue'];
  /** Opens webhooks' sealed secrets. */
  keyring: Keyring;
  /** Where webhooks may deliver (WEBHOOK_URL_ALLOWLIST). */
  webhookUrls: UrlAllowlist;
}

/** Every activity, built from its dependencies so tests can pass real or substituted ones. */
export function createActivities(deps: ActivityDeps) {
  const progress = createProgress(deps.publisher);
  const announce = createNotifier(deps);
  return {
    ...createRecordActivities({ ...deps, progress, announce }),
    ...createCollaborationActivities({ ...deps, announce }),
    ...createWebhookActivities(deps),
    ...createGenerationActivities({ ...deps, progress, speeds: createSpeedBook(), lengths: createLengthBook(deps.prisma) }),
    ...createReviewActivities({ ...deps, progress }),
    ...createReviewJobActivities(deps),
    ...createSchedulerActivities(deps),
    ...createResourceActivities(deps),
    ...createPullActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
