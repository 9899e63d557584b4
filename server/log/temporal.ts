import type { LogLevel as TemporalLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { jobIdOfWorkflow } from '../../workflows/definitions';
import type { Logger } from '.';

/**
 * The Temporal SDK's logging, through the process's pino logger. `Runtime.install({ logger })`
 * with this adapter carries the workflows' `log` (a sink, outside the sandbox), the activities'
 * `log` and the SDK's own lines (with core's forwarded). Lines about a job's workflow gain its
 * `jobId`; activity lines their `backendId` (jobActivityLogAttributes).
 */

const LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const satisfies Record<TemporalLevel, string>;

export function temporalLogger(logger: Logger): TemporalLogger {
  const write = (level: TemporalLevel, message: string, meta: LogMetadata = {}) => {
    // The SDK logs every activation at debug; below the level, not even the fields are built.
    if (!logger.isLevelEnabled(LEVELS[level])) return;
    // The SDK names a workflow's run `runId` in workflow lines and `workflowRunId` in activity lines.
    const { workflowRunId, ...fields } = meta as Record<string, unknown>;
    const runId = fields.runId ?? workflowRunId;
    const jobId = typeof fields.workflowId === 'string' ? jobIdOfWorkflow(fields.workflowId) : undefined;
    logger[LEVELS[level]]({ ...fields, ...(runId === undefined ? {} : { runId }), ...(jobId === undefined ? {} : { jobId }) }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

/** Activities of a job take the granted backend as `backendId` in their input; their lines say it. */
export const jobActivityLogAttributes: ActivityInterceptorsFactory = () => {
  let backendId: unknown;
  return {
    inbound: {
      execute(input, next) {
        const first = input.args[0];
        if (first && typeof first === 'object' && 'backendId' in first) backendId = first.backendId;
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return next(backendId === undefined ? input : { ...input, backendId });
      },
    },
  };
};
