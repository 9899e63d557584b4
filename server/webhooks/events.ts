/**
 * What a project's webhooks and its members' notifications are about: a job's end, or a job that
 * waits for a person (a collaboration's approval step).
 */

export const JOB_EVENTS = ['job.completed', 'job.failed', 'job.cancelled', 'job.awaiting_approval'] as const;
export type JobEvent = (typeof JOB_EVENTS)[number];

/** How a job ended, as an event: a dead letter is a failure whose retries ran out. */
export function jobEventOf(status: 'completed' | 'failed' | 'dead_letter' | 'cancelled'): JobEvent {
  return status === 'completed' ? 'job.completed' : status === 'cancelled' ? 'job.cancelled' : 'job.failed';
}

/** The body a webhook receives (docs/notifications.md): ids and facts, never the job's output. */
export interface WebhookPayload {
  /** The same for every webhook told of this event: `<job id>:<run id>:<event>`. */
  id: string;
  event: JobEvent;
  createdAt: string;
  project: { id: string; name: string };
  job: {
    id: string;
    status: string;
    model: string;
    title: string;
    author: string;
    completionTokens: number;
    error: string | null;
    createdAt: string;
    finishedAt: string | null;
  };
}

/** The start of the requirements, as lists and notifications show a job. */
export const jobTitle = (requirements: string) => (requirements.length > 80 ? `${requirements.slice(0, 79)}…` : requirements);
