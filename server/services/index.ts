import type { PrismaClient } from '../generated/prisma/client';
import { createSessionStore } from '../auth/session';
import type { TemporalProvider } from '../temporal/client';
import { createAdminService } from './admin';
import { createAuthService } from './auth';
import { createJobService } from './jobs';
import { createInviteService } from './invites';
import { createProjectService } from './projects';
import { createQueueService } from './queue';
import { createResourceService } from './resources';
import { createTeamService } from './teams';

export interface ServiceDeps {
  prisma: PrismaClient;
  temporal: TemporalProvider;
  sessionSecret: string;
  defaultModel: string;
  temporalUiUrl: string;
  /** Models offered to tiers that allow every model. */
  models?: string[];
}

/** The domain services shared by tRPC procedures, Remix loaders and Socket.IO handlers. */
export function createServices(deps: ServiceDeps) {
  const { prisma, temporal } = deps;
  const sessions = createSessionStore(prisma, deps.sessionSecret);
  const projects = createProjectService(prisma);
  const teams = createTeamService(prisma);
  const models = deps.models ?? [deps.defaultModel];
  return {
    prisma,
    temporal,
    models,
    sessions,
    auth: createAuthService({ prisma, sessions }),
    projects,
    teams,
    invites: createInviteService({ prisma, teams }),
    queue: createQueueService({ prisma, temporal }),
    resources: createResourceService({ temporal }),
    admin: createAdminService({ prisma, temporal, models }),
    jobs: createJobService({
      prisma,
      temporal,
      projects,
      defaultModel: deps.defaultModel,
      temporalUiUrl: deps.temporalUiUrl,
    }),
  };
}

export type Services = ReturnType<typeof createServices>;
