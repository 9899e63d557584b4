import type { RequestHandler } from 'express';
import { isError, UnavailableError } from '../errors';
import { checkMetricsAccess, createProcessRegistry } from '../metrics/registry';
import { createResourceGauges } from '../metrics/resources';
import type { Services } from '../services';

/**
 * GET /metrics of the web process (Prometheus text): its process metrics, and the resource
 * manager's and scheduler's view of pools and backends read at scrape time. Jobs, tokens and
 * latencies are counted by the workers, on their own /metrics (WORKER_METRICS_PORT).
 * Access: see checkMetricsAccess.
 */
export function metricsHandler(
  services: { resources: Pick<Services['resources'], 'status' | 'schedulerStatus'> },
  options: { token: string | undefined; production: boolean; maxWaitingJobs: number },
): RequestHandler {
  const registry = createProcessRegistry();
  const gauges = createResourceGauges(registry, { maxWaitingJobs: options.maxWaitingJobs });
  return async (req, res, next) => {
    res.type(registry.contentType);
    const access = checkMetricsAccess(req.headers.authorization, options);
    if (!access.ok) {
      res.status(access.status).send(access.body);
      return;
    }
    try {
      const [resources, scheduler] = await Promise.all([services.resources.status(), services.resources.schedulerStatus()]);
      gauges.update({ resources, scheduler });
    } catch (error) {
      // The process metrics still answer; switchyard_status_up says the rest is missing.
      if (!isError(error, UnavailableError)) return next(error);
      gauges.update(null);
    }
    res.send(await registry.metrics());
  };
}
