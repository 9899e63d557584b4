/** The resource manager's pure core (see decide.ts) and what the scheduler uses of it. */
export * from './types';
export { createResourceState, decide, resourceStatus } from './decide';
export { poolLoad } from './pool-load';
export { applyPressure } from './routing';
