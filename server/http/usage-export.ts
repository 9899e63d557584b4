import type { RequestHandler } from 'express';
import { z } from 'zod';
import { readSessionToken } from '../auth/session';
import { ForbiddenError, isError, NotFoundError, ValidationError } from '../errors';
import type { Services } from '../services';
import { usageCsv, usageInput, usageParams } from '../services/usage';

/**
 * GET /usage.csv: what the usage page shows, as CSV (one line per day and group), for the signed-in
 * user, with the page's query string. The same service and rules as usage.get: a team's usage for
 * its owners only.
 */
export function usageExportHandler(services: Services): RequestHandler {
  return (req, res, next) => {
    void (async () => {
      const token = readSessionToken(req.headers.cookie);
      const user = token ? await services.sessions.getUser(token) : null;
      if (!user) return void res.status(401).type('text/plain').send('Sign in to export usage.\n');
      const input = usageInput.safeParse(usageParams(new URL(req.originalUrl, 'http://x').searchParams));
      if (!input.success) return void res.status(400).type('text/plain').send(`${z.prettifyError(input.error)}\n`);
      try {
        const usage = await services.usage.get(user, input.data);
        const scope = input.data.teamId ? `team-${input.data.teamId.slice(0, 8)}` : 'mine';
        res
          .status(200)
          .type('text/csv; charset=utf-8')
          .set('content-disposition', `attachment; filename="usage-${scope}-${usage.from}-${usage.to}.csv"`)
          .set('cache-control', 'private, no-store')
          .send(usageCsv(usage));
      } catch (error) {
        const status = isError(error, NotFoundError) ? 404 : isError(error, ForbiddenError) ? 403 : isError(error, ValidationError) ? 400 : null;
        if (status === null) throw error;
        res.status(status).type('text/plain').send(`${(error as Error).message}\n`);
      }
    })().catch(next);
  };
}
