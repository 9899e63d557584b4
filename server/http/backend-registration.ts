import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { isError, ValidationError } from '../errors';
import type { Services } from '../services';
import { newBackendInput } from '../services/backends';
import { bearerKey, parseBody } from './api/common';
import { sameSecret } from '../crypto/same-secret';

/** What an instance registering itself need not say: an Ollama instance of four slots in the pool "local". */
const REGISTRATION_DEFAULTS = { kind: 'ollama', pool: 'local', slots: 4 };
const retirement = z.object({ url: z.string({ error: 'url is required.' }).max(2_000, 'url is too long.') });

/** Domain refusals as 4xx JSON; anything else is the app's error. */
const handle = (run: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response, next: NextFunction) => {
  try {
    await run(req, res);
  } catch (error) {
    if (isError(error, ValidationError)) res.status(400).json({ error: error.message, ...(error.field ? { field: error.field } : {}) });
    else next(error);
  }
};

/**
 * How instances join and leave the pool without an admin's session (docs/backends.md,
 * "Registration"): `POST /api/backends/register` adds one (or brings a known one back), `POST
 * /api/backends/drain` drains one before scale-in and says whether it is drained yet (`unregistered`:
 * no backend has that URL). Both need
 * `Authorization: Bearer $BACKEND_REGISTRATION_TOKEN`; with no token configured they do not exist.
 * The URL passes the same allow-list as an admin's, and every change is audited.
 */
export function backendRegistrationRouter(services: Pick<Services, 'backends'>, token: string | undefined) {
  const router = express.Router();
  if (!token) return router;
  router.use(express.json({ limit: 16 * 1024 }), (req, res, next) => {
    if (sameSecret(bearerKey(req) ?? '', token)) return next();
    res.status(401).json({ error: 'A valid registration token is required (Authorization: Bearer …).' });
  });

  router.post(
    '/register',
    handle(async (req, res) => {
      const body: unknown = req.body;
      const input = parseBody(newBackendInput, typeof body === 'object' && body !== null ? { ...REGISTRATION_DEFAULTS, ...body } : body);
      const { backend, scheduler } = await services.backends.register(input);
      res.json({ id: backend.id, name: backend.name, pool: backend.pool, models: backend.models, scheduler });
    }),
  );

  router.post(
    '/drain',
    handle(async (req, res) => {
      const backend = await services.backends.drainByUrl(parseBody(retirement, req.body).url);
      res.json(backend ? { id: backend.id, name: backend.name, state: backend.state, runningJobs: backend.runningJobs } : { state: 'unregistered' });
    }),
  );

  router.use((error: { type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (error.type === 'entity.parse.failed') return res.status(400).json({ error: 'The request body is not valid JSON.' });
    if (error.type === 'entity.too.large') return res.status(413).json({ error: 'The request body is too large.' });
    next(error);
  });
  return router;
}
