import { createHash } from 'node:crypto';

/**
 * A collaboration step's job id: a name-based UUID (version 5 layout) of its collaboration's id
 * and its part, so the step's workflow id (`job-<id>`, the id the scheduler signals) follows from
 * the collaboration's, and a retried collaboration finds the same steps instead of starting twins.
 */
export function stepJobId(collaborationJobId: string, part: string): string {
  const hash = createHash('sha1').update(`${collaborationJobId}/${part}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The part of a step's run on the fallback model: a job of its own, beside the step that failed. */
export const fallbackPart = (part: string) => `${part}:fallback`;
