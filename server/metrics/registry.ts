import { collectDefaultMetrics, Registry } from 'prom-client';
import { sameSecret } from '../crypto/same-secret';

/**
 * A registry of its own per process role (web, worker), never prom-client's global one: tests run
 * a web and a worker in one process, and each must expose only what it counts. Every registry
 * carries the process metrics (CPU, memory, event loop lag, GC); Prometheus tells the roles apart
 * by their scrape jobs.
 */
export function createProcessRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export type MetricsAccess = { ok: true } | { ok: false; status: 401 | 403; body: string };

/**
 * Who may read /metrics (web and worker alike): with a token configured, only `Authorization:
 * Bearer <token>`. Without one it is open in development and refused in production, where
 * backends' names and load are not for whoever reaches the port.
 */
export function checkMetricsAccess(authorization: string | undefined, { token, production }: { token: string | undefined; production: boolean }): MetricsAccess {
  if (!token && production) return { ok: false, status: 403, body: '# set METRICS_TOKEN to read metrics in production\n' };
  if (token && !sameSecret(authorization ?? '', `Bearer ${token}`)) return { ok: false, status: 401, body: '# a bearer token is required\n' };
  return { ok: true };
}
