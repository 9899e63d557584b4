import { z } from 'zod';
import { parseKeyList } from './crypto/keyring';
import { LOG_FORMATS, LOG_LEVELS } from './log';
import { DEFAULT_BACKEND_URL_ALLOWLIST, DEFAULT_WEBHOOK_URL_ALLOWLIST, parseAllowlist } from './net/allowlist';
import { DEFAULT_STREAM_IDLE_MS } from './llm/stall';
import type { TracingConfig } from './tracing/sdk';
import type { ResourceConfig } from '../workflows/resources';

/**
 * The only reader of `process.env`. Everything else receives configuration as arguments, so
 * tests can pass their own. A bad value stops the process with one line naming the variable.
 */

const port = z.coerce.number().int().min(1).max(65535);
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:$/.test(new URL(u).protocol), 'must be an http(s) URL')
  .refine((u) => !new URL(u).username && !new URL(u).password, 'must not embed credentials');
const urlList = z
  .string()
  .transform((s) => s.split(',').map((u) => u.trim()).filter(Boolean))
  .pipe(z.array(httpUrl));

/** A URL allow-list (server/net/allowlist.ts), refused at start-up when malformed. */
const allowlistSetting = (fallback: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      try {
        parseAllowlist(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .default(fallback);

export const DEFAULT_MAX_TEAMS_PER_USER = 5;
/**
 * Jobs that may wait at once. The scheduler plans over its whole waiting list on every change that
 * somebody asks about, and bench:ceiling finds where positions stop following within a second
 * (bench/README.md): the bound sits at the backlog measured to hold.
 */
export const DEFAULT_MAX_WAITING_JOBS = 100_000;
export const DEFAULT_WORKER_CACHED_WORKFLOWS = 250;

const serverSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(3000),
  /** Lines below this level are dropped (server/log). */
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /** `json` or `pretty`; unset: pretty outside production when standard output is a terminal. */
  LOG_FORMAT: z.enum(LOG_FORMATS).optional(),
  /** An OTLP/HTTP collector's base URL: traces are exported to `<url>/v1/traces`. Unset: no tracing at all. */
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  /** `key=value` pairs, comma-separated, sent with every export (a hosted collector's API key). */
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .regex(/^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/, 'must be key=value pairs, comma-separated')
    .transform((value) => Object.fromEntries(value.split(',').map((pair) => pair.split('=').map((part) => decodeURIComponent(part.trim())) as [string, string])))
    .optional(),
  /** The traces' service name; unset: `switchyard-web` / `switchyard-worker`. */
  OTEL_SERVICE_NAME: z.string().trim().min(1).optional(),
  /** The share of traces kept, 0–1 (a parent-based ratio sampler). */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  /** Connections per process; a worker streaming many jobs saves each one's output every second. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(20),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /**
   * Keys sealing secrets at rest and Temporal payloads (server/crypto/keyring.ts): `id:base64`
   * entries, comma-separated, 32 bytes each, the first encrypting. Required in production.
   */
  ENCRYPTION_KEYS: z
    .string()
    .superRefine((value, ctx) => {
      try {
        parseKeyList(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .optional(),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('switchyard'),
  TEMPORAL_UI_URL: httpUrl.default('http://localhost:8233'),
  OLLAMA_URL: urlList.default(['http://127.0.0.1:11434']),
  /** Requests each Ollama instance serves at once (its OLLAMA_NUM_PARALLEL). */
  OLLAMA_SLOTS: z.coerce.number().int().min(1).max(256).default(4),
  /**
   * Requests the scheduler queues at each Ollama instance beyond its slots (within its
   * OLLAMA_MAX_QUEUE), so a freed slot starts the next job at once; unset: none (see
   * docs/scheduler.md, "Pipelining", for when it pays).
   * Only applied when a backend is first registered; admins edit it from then on.
   */
  OLLAMA_PREFETCH: z.coerce.number().int().min(0).max(512).optional(),
  OPENAI_BASE_URL: httpUrl.default('https://api.openai.com/v1'),
  /** Concurrent requests Switchyard sends to the cloud endpoint. */
  OPENAI_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
  OPENAI_API_KEY: z.string().optional(),
  /**
   * Hosts (`*.` for subdomains), addresses and CIDRs admins may point backends at; link-local and
   * metadata addresses only when listed by address (server/net/allowlist.ts, docs/backends.md).
   */
  BACKEND_URL_ALLOWLIST: allowlistSetting(DEFAULT_BACKEND_URL_ALLOWLIST),
  /**
   * Where projects' webhooks may deliver: by default `public`, any globally routable address, so
   * not loopback, private networks or metadata services unless listed (docs/notifications.md).
   */
  WEBHOOK_URL_ALLOWLIST: allowlistSetting(DEFAULT_WEBHOOK_URL_ALLOWLIST),
  /** How often every worker reads the backend rows and rebuilds the clients that changed. */
  BACKEND_REFRESH_MS: z.coerce.number().int().min(100).max(600_000).default(3_000),
  /** Longest silence of a model's answer once it has begun, before the call fails and the job retries (server/llm/stall.ts). */
  LLM_STREAM_IDLE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(DEFAULT_STREAM_IDLE_MS),
  /** When set, new instances register themselves at POST /api/backends/register with this bearer token. */
  BACKEND_REGISTRATION_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  DEFAULT_MODEL: z.string().default('qwen2.5-coder:7b'),
  /**
   * Teams one person may own (admins: any number). Each team has its own token budget, so without
   * a bound anyone could multiply theirs by creating teams. 0: no limit.
   */
  MAX_TEAMS_PER_USER: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_MAX_TEAMS_PER_USER),
  /** Admission refuses a submit while this many jobs wait, naming when a place frees; 0: no bound. */
  MAX_WAITING_JOBS: z.coerce.number().int().min(0).max(10_000_000).default(DEFAULT_MAX_WAITING_JOBS),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  /** Backends are probed, and the scheduler's load sampled, this often (the resource manager's tick). */
  RESOURCE_SAMPLE_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  RESOURCE_WINDOW_SAMPLES: z.coerce.number().int().min(1).max(1_000).default(12),
  HEALTH_FAILURES_TO_DOWN: z.coerce.number().int().min(1).max(100).default(2),
  ROUTING_PREFER_CLOUD_AFTER_MS: z.coerce.number().int().min(0).default(120_000),
  SCALE_MIN_INSTANCES: z.coerce.number().int().min(0).default(2),
  SCALE_MAX_INSTANCES: z.coerce.number().int().min(1).default(10),
  SCALE_UP_QUEUE_DEPTH: z.coerce.number().int().min(1).default(50),
  SCALE_DOWN_QUEUE_DEPTH: z.coerce.number().int().min(0).default(5),
  SCALE_UP_COOLDOWN_MS: z.coerce.number().int().min(0).default(120_000),
  SCALE_DOWN_COOLDOWN_MS: z.coerce.number().int().min(0).default(600_000),
  /** Run with `sh -c` on every scale recommendation, the recommendation as JSON on stdin. */
  SCALE_HOOK_COMMAND: z.string().trim().min(1).optional(),
  SCALE_HOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(30_000),
  /**
   * Express's `trust proxy`, for a web process behind reverse proxies: a hop count, or the
   * proxies' addresses/subnets (comma-separated, or loopback / linklocal / uniquelocal). Unset,
   * the client is the socket's peer, so behind a proxy every client would share its address.
   */
  TRUST_PROXY: z
    .string()
    .trim()
    .regex(/^(\d+|[\w.:/]+(,\s*[\w.:/]+)*)$/, 'must be a hop count or comma-separated proxy addresses')
    .transform((value) => (/^\d+$/.test(value) ? Number(value) : value))
    .optional(),
  /**
   * GET /metrics requires `Authorization: Bearer <token>`. Unset, /metrics is open in development
   * and refused (403) in production: the metrics name backends and load.
   */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * A worker serves its own GET /metrics (jobs, tokens, latencies, process) on this port, bound to
   * HOST, with METRICS_TOKEN's rule. Unset: no metrics server in the worker.
   */
  WORKER_METRICS_PORT: port.optional(),
  /**
   * Job workflows a worker process keeps in memory between their workflow tasks. A waiting job
   * sits for minutes between its request and its grant, and the SDK's default (about 2,300 with a
   * 4 GB heap) kept thousands of them resident: 1.6 GB at 5,000 waiting. One evicted is replayed
   * from its short history when its grant arrives (milliseconds); bench/README.md, "Worker memory".
   */
  WORKER_CACHED_WORKFLOWS: z.coerce.number().int().min(2).max(100_000).default(DEFAULT_WORKER_CACHED_WORKFLOWS),
  /**
   * The address people reach the app at (`https://switchyard.example.com`). Its host is the only
   * Origin accepted on state-changing requests and socket handshakes (unset: the request's Host);
   * https makes session cookies Secure and sends HSTS even behind a TLS-terminating proxy.
   */
  PUBLIC_URL: httpUrl.optional(),
});

export type ServerEnv = z.infer<typeof serverSchema> & { SESSION_SECRET: string; ENCRYPTION_KEYS: string };

/** Development and tests only: a fixed key, so sealed rows and histories survive restarts. */
export const DEVELOPMENT_ENCRYPTION_KEYS = `dev:${Buffer.alloc(32, 'switchyard-development-key').toString('base64')}`;

const stackSchema = z.object({
  /** `npm run db:seed` adds the demo accounts unless this is production. */
  NODE_ENV: serverSchema.shape.NODE_ENV,
  DATABASE_URL: serverSchema.shape.DATABASE_URL.optional(),
  OLLAMA_URL: z.string().optional(),
  PORT: port.default(3000),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  PG_PORT: port.default(5433),
  SIM_PORT: port.default(11434),
  SIM_INSTANCES: z.coerce.number().int().min(1).max(32).default(2),
  TEMPORAL_CLI: z.string().optional(),
  OLLAMA_BIN: z.string().optional(),
  HOST: serverSchema.shape.HOST,
  LOG_LEVEL: serverSchema.shape.LOG_LEVEL,
  LOG_FORMAT: serverSchema.shape.LOG_FORMAT,
  SESSION_SECRET: serverSchema.shape.SESSION_SECRET,
  ENCRYPTION_KEYS: serverSchema.shape.ENCRYPTION_KEYS,
  /** Set by the Playwright global setup for its workers: the web URL of the stack under test. */
  E2E_BASE_URL: httpUrl.optional(),
  /**
   * Set by `npm run histories:record`: a folder the scenario tests write the workflow histories
   * they produce into (tests/support/histories.ts). Unset, tests record nothing.
   */
  RECORD_HISTORIES: z.string().min(1).optional(),
  /** `npm run admin:bootstrap`: the first admin's password, when not typed on standard input. */
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(1).optional(),
});

export type StackEnv = z.infer<typeof stackSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parse<T extends z.ZodTypeAny>(schema: T, source: NodeJS.ProcessEnv): z.infer<T> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = String(issue.path[0] ?? 'environment');
  const shown = source[variable] === undefined ? 'is missing' : `is invalid (${issue.message})`;
  throw new ConfigError(`Configuration error: ${variable} ${shown}.`);
}

/** Configuration of the web and worker processes. */
export function loadServerEnv(source: NodeJS.ProcessEnv = process.env): ServerEnv {
  const env = parse(serverSchema, source);
  if (env.SCALE_MIN_INSTANCES > env.SCALE_MAX_INSTANCES) {
    throw new ConfigError(`Configuration error: SCALE_MAX_INSTANCES is invalid (must be at least SCALE_MIN_INSTANCES=${env.SCALE_MIN_INSTANCES}).`);
  }
  if (env.SCALE_DOWN_QUEUE_DEPTH >= env.SCALE_UP_QUEUE_DEPTH) {
    throw new ConfigError(`Configuration error: SCALE_DOWN_QUEUE_DEPTH is invalid (must be below SCALE_UP_QUEUE_DEPTH=${env.SCALE_UP_QUEUE_DEPTH}).`);
  }
  for (const required of ['SESSION_SECRET', 'ENCRYPTION_KEYS'] as const) {
    if (!env[required] && env.NODE_ENV === 'production') {
      throw new ConfigError(`Configuration error: ${required} is missing (required in production).`);
    }
  }
  return {
    ...env,
    SESSION_SECRET: env.SESSION_SECRET ?? 'switchyard-development-session-secret-not-for-production',
    ENCRYPTION_KEYS: env.ENCRYPTION_KEYS ?? DEVELOPMENT_ENCRYPTION_KEYS,
  };
}

/** The resource manager's settings, from the env. */
export function resourceConfig(env: ServerEnv): ResourceConfig {
  return {
    sampleIntervalMs: env.RESOURCE_SAMPLE_INTERVAL_MS,
    windowSize: env.RESOURCE_WINDOW_SAMPLES,
    probeFailuresToDown: env.HEALTH_FAILURES_TO_DOWN,
    preferCloudAfterWaitMs: env.ROUTING_PREFER_CLOUD_AFTER_MS,
    autoScaling: {
      minInstances: env.SCALE_MIN_INSTANCES,
      maxInstances: env.SCALE_MAX_INSTANCES,
      scaleUpQueueDepth: env.SCALE_UP_QUEUE_DEPTH,
      scaleDownQueueDepth: env.SCALE_DOWN_QUEUE_DEPTH,
      scaleUpCooldownMs: env.SCALE_UP_COOLDOWN_MS,
      scaleDownCooldownMs: env.SCALE_DOWN_COOLDOWN_MS,
    },
  };
}

/** Tracing's settings for a process (`web`, `worker`), or undefined when OTEL_EXPORTER_OTLP_ENDPOINT is unset. */
export function tracingConfig(env: ServerEnv, process: 'web' | 'worker'): TracingConfig | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return {
    endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    headers: env.OTEL_EXPORTER_OTLP_HEADERS ?? {},
    serviceName: env.OTEL_SERVICE_NAME ?? `switchyard-${process}`,
    sampleRatio: env.OTEL_TRACES_SAMPLER_ARG,
  };
}

/** Configuration of the scripts that start the local stack (`npm run dev`, tests, benchmarks). */
export function loadStackEnv(source: NodeJS.ProcessEnv = process.env): StackEnv {
  return parse(stackSchema, source);
}

/** Runs `load`, and on a configuration error prints its one line and exits. */
export function loadOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
