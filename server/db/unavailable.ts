import { ApplicationFailure } from '@temporalio/common';
import { DATABASE_UNAVAILABLE } from '../../workflows/definitions';

/**
 * One answer to "is this error PostgreSQL being unreachable" — a restart, a failover, a cut link —
 * rather than something wrong with the query or with a model backend. Activities report such
 * errors as `DatabaseUnavailable` (server/temporal/database-outage.ts): the workflow waits for the
 * database and runs the same step again instead of charging the outage to the job's backend.
 */

// Prisma's codes for a server it cannot reach, that timed out, closed the connection, has no
// connection left in the pool, or refuses more connections.
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);
// The driver adapter's kinds for the same, when its error is reached before Prisma's code.
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
// SQLSTATE: admin_shutdown, crash_shutdown, cannot_connect_now ("the database system is starting
// up"), too_many_connections; class 08 is every connection exception.
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const isOutageState = (code: string) => SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code);
// node-postgres's own words for a connection that died or never came, which no adapter maps.
const PG_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

export function isDatabaseUnavailable(error: unknown): boolean {
  // Prisma wraps the adapter's error in `meta.driverAdapterError`, whose `cause` has the SQLSTATE.
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof ApplicationFailure) return current.type === DATABASE_UNAVAILABLE;
    const { code, originalCode, kind, message, meta, cause } = current as Record<string, unknown>;
    if (typeof code === 'string' && (PRISMA_CODES.has(code) || isOutageState(code))) return true;
    if (typeof originalCode === 'string' && isOutageState(originalCode)) return true;
    if (typeof kind === 'string' && ADAPTER_KINDS.has(kind)) return true;
    if (typeof message === 'string' && PG_MESSAGES.test(message)) return true;
    current = (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError ?? cause;
  }
  return false;
}

/** The retryable failure an activity reports for an unreachable database. */
export function databaseUnavailableFailure(error: unknown): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  return ApplicationFailure.retryable(`the database is unavailable: ${error instanceof Error ? error.message : String(error)}`, DATABASE_UNAVAILABLE);
}
