import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { WebhookDeliveryInput } from './definitions';

/**
 * Attempts a delivery gets: with the backoff below, the last comes about 40 minutes after the
 * first, long enough to ride out a receiver's restart or a short outage.
 */
export const WEBHOOK_MAX_ATTEMPTS = 12;

const hook = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: WEBHOOK_MAX_ATTEMPTS },
});

/**
 * One event for one webhook, delivered durably: each attempt is an activity that records its
 * outcome, Temporal's retry policy is the backoff, and a worker's crash loses nothing.
 */
export async function webhookDeliveryWorkflow({ deliveryId }: WebhookDeliveryInput): Promise<string> {
  return hook.deliverWebhook({ deliveryId, maxAttempts: WEBHOOK_MAX_ATTEMPTS });
}
