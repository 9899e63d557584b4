import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { databaseUnavailableFailure, isDatabaseUnavailable } from '../db/unavailable';

/**
 * Every activity's (and local activity's) unreachable-database error leaves as a
 * `DatabaseUnavailable` failure, whatever call inside it failed: otherwise its type is the Prisma
 * error's class name, which the workflow cannot tell from any other failure.
 */
export const databaseOutageFailures: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (error) {
        throw isDatabaseUnavailable(error) ? databaseUnavailableFailure(error) : error;
      }
    },
  },
});
