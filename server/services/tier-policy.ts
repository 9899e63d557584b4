import type { Tier } from '../generated/prisma/client';
import type { TierPolicy } from '../../workflows/scheduler/core';

/** The columns of a tier row the scheduler reads. */
export type TierPolicyRow = Pick<Tier, keyof TierPolicy>;

/** A tier row as the scheduler sees it (budgets and prompt limits are the web's admission). */
export function toTierPolicy(tier: TierPolicyRow): TierPolicy {
  return {
    name: tier.name,
    weight: tier.weight,
    basePriority: tier.basePriority,
    maxRunningPerUser: tier.maxRunningPerUser,
    maxQueuedPerUser: tier.maxQueuedPerUser,
    allowedModels: tier.allowedModels,
    poolPreference: tier.poolPreference,
    cloudFallback: tier.cloudFallback,
    cloudFallbackAfterSec: tier.cloudFallbackAfterSec,
    minShare: tier.minShare,
    batchEnabled: tier.batchEnabled,
    maxBatchSize: tier.maxBatchSize,
    batchTimeoutSec: tier.batchTimeoutSec,
  };
}
