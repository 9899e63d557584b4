import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { ResourceStatus } from '../../workflows/resources';
import { isError, UnavailableError } from '../errors';
import type { Services } from '../services';

type Labels = Record<string, string>;
interface Metric {
  name: string;
  help: string;
  samples: Array<[Labels, number]>;
}

/** Prometheus text exposition (format 0.0.4) of the resource manager's latest sample. */
export function renderMetrics(status: ResourceStatus): string {
  const pools = status.pools;
  const pool = (value: (p: (typeof pools)[number]) => number) => pools.map((p): [Labels, number] => [{ pool: p.pool }, value(p)]);
  const metrics: Metric[] = [
    { name: 'switchyard_pool_instances', help: 'Ollama instances in the pool.', samples: pool((p) => p.instances) },
    { name: 'switchyard_pool_slots', help: 'Slots of the pool’s backends.', samples: pool((p) => p.slots) },
    { name: 'switchyard_pool_up_slots', help: 'Slots of healthy backends not cooling down.', samples: pool((p) => p.upSlots) },
    { name: 'switchyard_pool_busy_slots', help: 'Slots held by running jobs.', samples: pool((p) => p.busy) },
    { name: 'switchyard_pool_queue_depth', help: 'Jobs waiting for the pool.', samples: pool((p) => p.queueDepth) },
    { name: 'switchyard_pool_oldest_wait_seconds', help: 'How long the longest-waiting job has waited.', samples: pool((p) => p.oldestWaitMs / 1000) },
    { name: 'switchyard_pool_expected_wait_seconds', help: 'Forecast wait of the last queued job.', samples: pool((p) => p.expectedWaitMs / 1000) },
    { name: 'switchyard_pool_pressured', help: '1 while tiers allowing fallback are routed to cloud at once.', samples: pool((p) => (p.pressured ? 1 : 0)) },
    {
      name: 'switchyard_pool_recommended_instances',
      help: 'Target of the latest scale recommendation (the current count when none was made).',
      samples: pool((p) => p.recommendation?.targetInstances ?? p.instances),
    },
    {
      name: 'switchyard_backend_up',
      help: '1 when the backend’s health probes pass.',
      samples: status.backends.map((b) => [{ backend: b.id, pool: b.pool }, b.healthy ? 1 : 0]),
    },
    {
      name: 'switchyard_backend_probe_latency_seconds',
      help: 'Duration of the latest health probe.',
      samples: status.backends.map((b) => [{ backend: b.id, pool: b.pool }, b.latencyMs / 1000]),
    },
    { name: 'switchyard_resources_sampled_timestamp_seconds', help: 'When the resource manager last sampled.', samples: [[{}, status.sampledAt / 1000]] },
  ];
  return metrics
    .map(({ name, help, samples }) =>
      [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples.map(([labels, value]) => `${name}${formatLabels(labels)} ${value}`)].join('\n'),
    )
    .join('\n')
    .concat('\n');
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const escape = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${entries.map(([key, value]) => `${key}="${escape(value)}"`).join(',')}}`;
}

/**
 * GET /metrics; with a token configured, only for `Authorization: Bearer <token>`. Without one it
 * is open in development and refused in production, where backends' names and load are not for
 * whoever reaches the port.
 */
export function metricsHandler(
  services: Pick<Services, 'resources'>,
  { token, production }: { token: string | undefined; production: boolean },
): RequestHandler {
  return async (req, res, next) => {
    res.type('text/plain; version=0.0.4; charset=utf-8');
    if (!token && production) {
      res.status(403).send('# set METRICS_TOKEN to read metrics in production\n');
      return;
    }
    if (token && !sameSecret(req.headers.authorization ?? '', `Bearer ${token}`)) {
      res.status(401).send('# a bearer token is required\n');
      return;
    }
    try {
      res.send(renderMetrics(await services.resources.status()));
    } catch (error) {
      if (isError(error, UnavailableError)) res.status(503).send(`# ${error.message}\n`);
      else next(error);
    }
  };
}

/** Constant-time comparison (of digests, so lengths need not match). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
