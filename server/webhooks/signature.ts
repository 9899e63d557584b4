import { createHmac } from 'node:crypto';

/**
 * A delivery's signature: HMAC-SHA256 with the webhook's secret over `<timestamp>.<body>`, the
 * timestamp (Unix seconds) sent beside it, so a receiver that refuses old timestamps cannot be
 * replayed a captured request (docs/notifications.md, "Verifying a delivery").
 */
export function signDelivery(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
