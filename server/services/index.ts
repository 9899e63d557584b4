import type { Keyring } from '../crypto/keyring';
import type { PrismaClient } from '../generated/prisma/client';
import { DEFAULT_MAX_WAITING_JOBS } from '../env';
import type { UrlAllowlist } from '../net/allowlist';
import { createSessionStore } from '../auth/session';
import { createLocalFeed } from '../realtime/local-feed';
import type { TemporalProvider } from '../temporal/client';
import { readSchedulerStatus } from '../temporal/scheduler';
import { createAdminService } from './admin';
import { createApiKeyService } from './api-keys';
import { createApiModels } from './api-models';
import { createAuthService } from './auth';
import { createBackendNames } from './backend-names';
import { createBackendService } from './backends';
import { createCatalogService } from './catalog';
import { createCollaborationService } from './collaborations';
import { createJobService } from './jobs';
import { createNotificationService } from './notifications';
import { createInviteService } from './invites';
import { createProjectService } from './projects';
import { createQueueService } from './queue';
import { createResidencyService } from './residency';
import { createResourceService } from './resources';
import { createReviewService } from './reviews';
import { createTeamService } from './teams';
import { createUsageService } from './usage';
import { createUserRate, type RateRule } from './user-rate';
import { createWebhookService } from './webhooks';

export interface ServiceDeps {
  prisma: PrismaClient;
  temporal: TemporalProvider;
  sessionSecret: string;
  defaultModel: string;
  temporalUiUrl: string;
  /** Teams one non-admin may own; 0: no limit (env MAX_TEAMS_PER_USER). */
  maxTeamsPerUser: number;
  /** Seals cloud API keys at rest. */
  keyring: Keyring;
  /** Where admins may point backends (BACKEND_URL_ALLOWLIST). */
  backendUrls: UrlAllowlist;
  /** Jobs that may wait at once (MAX_WAITING_JOBS); production's default unless given. */
  maxWaitingJobs?: number;
  /** Where projects' webhooks may deliver (WEBHOOK_URL_ALLOWLIST). */
  webhookUrls: UrlAllowlist;
  /** Per-user rates; production's (USER_RATES) unless given. */
  userRates?: UserRates;
}

export interface UserRates {
  /** jobs.live and queue.get: each a Temporal query, mostly to the one scheduler workflow. */
  workflowQueries: RateRule;
  /** Socket.IO joins: each a membership check in the database. */
  joins: RateRule;
}

export const USER_RATES: UserRates = {
  workflowQueries: { burst: 30, perSecond: 2 },
  joins: { burst: 60, perSecond: 5 },
};

/** The domain services shared by tRPC procedures, Remix loaders and Socket.IO handlers. */
export function createServices(deps: ServiceDeps) {
  const { prisma, temporal } = deps;
  const sessions = createSessionStore(prisma, deps.sessionSecret);
  const projects = createProjectService(prisma);
  const teams = createTeamService(prisma, { maxTeamsPerUser: deps.maxTeamsPerUser });
  const admin = createAdminService({ prisma, temporal });
  const catalog = createCatalogService({ prisma, defaultModel: deps.defaultModel, tellScheduler: admin.tellScheduler });
  const backendNames = createBackendNames(prisma);
  const queue = createQueueService({ prisma, temporal, backendNames });
  const userRates = deps.userRates ?? USER_RATES;
  const jobs = createJobService({
    prisma,
    temporal,
    projects,
    defaultModel: deps.defaultModel,
    temporalUiUrl: deps.temporalUiUrl,
    backendNames,
    maxWaitingJobs: deps.maxWaitingJobs ?? DEFAULT_MAX_WAITING_JOBS,
  });
  return {
    prisma,
    temporal,
    sessions,
    /** Live job tokens and queue positions for listeners in this process (the HTTP API). */
    feed: createLocalFeed(),
    auth: createAuthService({ prisma, sessions }),
    projects,
    teams,
    invites: createInviteService({ prisma, teams }),
    apiKeys: createApiKeyService({ prisma, teams, secret: deps.sessionSecret }),
    queue,
    usage: createUsageService({ prisma, teams }),
    apiModels: createApiModels(prisma),
    resources: createResourceService({ prisma, temporal }),
    reviews: createReviewService(prisma),
    /** Per-user rates of what loads the scheduler workflow and the database for everyone (docs/security.md). */
    rates: {
      workflowQueries: createUserRate(userRates.workflowQueries, 'live job and queue requests'),
      joins: createUserRate(userRates.joins, 'room joins'),
    },
    residency: createResidencyService({ prisma, temporal, tellScheduler: admin.tellScheduler }),
    admin,
    backends: createBackendService({
      prisma,
      keyring: deps.keyring,
      allowlist: deps.backendUrls,
      tellScheduler: admin.tellScheduler,
      schedulerStatus: () => readSchedulerStatus(temporal),
    }),
    webhooks: createWebhookService({ prisma, keyring: deps.keyring, allowlist: deps.webhookUrls, projects }),
    notifications: createNotificationService(prisma),
    catalog,
    jobs,
    collaborations: createCollaborationService({
      prisma,
      temporal,
      projects,
      jobs,
      defaultModel: deps.defaultModel,
      temporalUiUrl: deps.temporalUiUrl,
      backendNames,
      catalog,
    }),
  };
}

export type Services = ReturnType<typeof createServices>;
