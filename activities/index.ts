import type { PrismaClient } from '../server/generated/prisma/client';
import type { Publisher } from '../server/realtime/events';
import { createGenerationActivities, type BackendPicker } from './generate';
import { createRecordActivities } from './records';
import { createReviewActivities } from './review';

export interface ActivityDeps {
  prisma: PrismaClient;
  publisher: Publisher;
  backends: BackendPicker;
  flushIntervalMs?: number;
}

/** Every activity, built from its dependencies so tests can pass real or substituted ones. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRecordActivities(deps),
    ...createGenerationActivities(deps),
    ...createReviewActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
