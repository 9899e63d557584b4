import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * The one structured logger of every process (web, worker, the dev supervisor): JSON lines in
 * production, pino-pretty for a person at a terminal. Lines about a request carry its
 * `requestId` (server/log/request.ts); lines about a job carry `jobId`, `workflowId`, `runId` and,
 * from activities, `backendId` (server/log/temporal.ts).
 */

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogSettings {
  /** The process on every line: `web`, `worker`, `dev`. */
  name: string;
  level: LogLevel;
  /** Unset: pretty outside production when standard output is a terminal, JSON otherwise. */
  format?: LogFormat | undefined;
  production?: boolean;
  /** Where JSON lines go instead of standard output (tests read them). */
  destination?: DestinationStream;
}

export function createLogger({ name, level, format, production = false, destination }: LogSettings): Logger {
  const options: LoggerOptions = {
    name,
    level,
    timestamp: pino.stdTimeFunctions.isoTime,
    // Errors are logged under `err` by convention; the SDK's own lines put them under `error`.
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  const pretty = !destination && (format ?? (!production && process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
  if (pretty) {
    // A transport formats in a worker thread, off the event loop the server answers requests on.
    return pino({ ...options, transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  // Level names rather than numbers: what log collectors and people grepping expect.
  return pino({ ...options, formatters: { level: (label) => ({ level: label }) } }, destination);
}

let processLogger: Logger | undefined;

/** Makes `logger` the process's, for code that has no logger handed to it. Entry points call it first. */
export function setProcessLogger(logger: Logger): Logger {
  processLogger = logger;
  return logger;
}

/** The process's logger; before an entry point sets one (tests), JSON at `info`. */
export function getLogger(): Logger {
  return (processLogger ??= createLogger({ name: 'switchyard', level: 'info', format: 'json' }));
}

/** The process's logger from its configuration (LOG_LEVEL, LOG_FORMAT, NODE_ENV), set as the process's. */
export function startProcessLogger(name: string, env: { LOG_LEVEL: LogLevel; LOG_FORMAT?: LogFormat | undefined; NODE_ENV: string }): Logger {
  return setProcessLogger(createLogger({ name, level: env.LOG_LEVEL, format: env.LOG_FORMAT, production: env.NODE_ENV === 'production' }));
}

/**
 * A line that the supervisor and tests wait for (`web listening on …`, `worker ready`): written at
 * info even under a higher LOG_LEVEL, or `npm run dev` would wait for it forever.
 */
export function announce(logger: Logger, message: string): void {
  (logger.isLevelEnabled('info') ? logger : logger.child({}, { level: 'info' })).info(message);
}
