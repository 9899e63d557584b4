import { createCallerFactory, router } from './init';
import { adminRouter } from './routers/admin';
import { apiKeysRouter } from './routers/api-keys';
import { backendsRouter } from './routers/backends';
import { collaborationsRouter } from './routers/collaborations';
import { invitesRouter } from './routers/invites';
import { jobsRouter } from './routers/jobs';
import { notificationsRouter } from './routers/notifications';
import { projectsRouter } from './routers/projects';
import { queueRouter } from './routers/queue';
import { resourcesRouter } from './routers/resources';
import { reviewsRouter } from './routers/reviews';
import { teamsRouter } from './routers/teams';
import { usageRouter } from './routers/usage';
import { webhooksRouter } from './routers/webhooks';

export const appRouter = router({
  projects: projectsRouter,
  jobs: jobsRouter,
  reviews: reviewsRouter,
  collaborations: collaborationsRouter,
  teams: teamsRouter,
  invites: invitesRouter,
  queue: queueRouter,
  resources: resourcesRouter,
  admin: adminRouter,
  apiKeys: apiKeysRouter,
  backends: backendsRouter,
  usage: usageRouter,
  webhooks: webhooksRouter,
  notifications: notificationsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
