import { createCallerFactory, router } from './init';
import { invitesRouter } from './routers/invites';
import { jobsRouter } from './routers/jobs';
import { projectsRouter } from './routers/projects';
import { queueRouter } from './routers/queue';
import { teamsRouter } from './routers/teams';

export const appRouter = router({
  projects: projectsRouter,
  jobs: jobsRouter,
  teams: teamsRouter,
  invites: invitesRouter,
  queue: queueRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
