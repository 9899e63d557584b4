import { createCallerFactory, router } from './init';
import { invitesRouter } from './routers/invites';
import { jobsRouter } from './routers/jobs';
import { projectsRouter } from './routers/projects';
import { teamsRouter } from './routers/teams';

export const appRouter = router({
  projects: projectsRouter,
  jobs: jobsRouter,
  teams: teamsRouter,
  invites: invitesRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
