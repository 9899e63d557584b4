import { createCallerFactory, router } from './init';
import { jobsRouter } from './routers/jobs';
import { projectsRouter } from './routers/projects';

export const appRouter = router({
  projects: projectsRouter,
  jobs: jobsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
