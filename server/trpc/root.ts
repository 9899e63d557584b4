import { createCallerFactory, router } from './init';
import { adminRouter } from './routers/admin';
import { apiKeysRouter } from './routers/api-keys';
import { backendsRouter } from './routers/backends';
import { invitesRouter } from './routers/invites';
import { jobsRouter } from './routers/jobs';
import { projectsRouter } from './routers/projects';
import { queueRouter } from './routers/queue';
import { resourcesRouter } from './routers/resources';
import { teamsRouter } from './routers/teams';

export const appRouter = router({
  projects: projectsRouter,
  jobs: jobsRouter,
  teams: teamsRouter,
  invites: invitesRouter,
  queue: queueRouter,
  resources: resourcesRouter,
  admin: adminRouter,
  apiKeys: apiKeysRouter,
  backends: backendsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
