import { createCallerFactory, router } from './init';
import { invitesRouter } from './routers/invites';
import { jobsRouter } from './routers/jobs';
import { projectsRouter } from './routers/projects';
import { resourcesRouter } from './routers/resources';
import { teamsRouter } from './routers/teams';

export const appRouter = router({
  projects: projectsRouter,
  jobs: jobsRouter,
  teams: teamsRouter,
  invites: invitesRouter,
  resources: resourcesRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
