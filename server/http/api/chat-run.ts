import type { ChatOutcome } from '../../../workflows/definitions';
import type { ApiCaller } from '../../services/api-keys';
import type { ChatRequest } from '../../services/chat-request';
import type { Services } from '../../services';

export interface QueuedAt {
  /** Jobs that start before this one if nothing new arrives (0 = next). */
  position: number;
  etaMs: number | null;
}

export interface ChatListeners {
  /** The answer's text, in order, each piece once. */
  onText(piece: string): void;
  /** Its place in the queue, each time the scheduler's plan changes while it waits. */
  onQueued?(at: QueuedAt): void;
}

export interface ChatRun {
  /** The answer once the job ends; what onText has not had yet is sent through it first. Rejects as the job failed. */
  finish(): Promise<ChatOutcome>;
  /** The client went away: cancel the job, which gives its slot back. */
  abandon(): void;
}

/**
 * One API request as a job: admitted and started like any other (a refusal rejects before anything
 * exists), its tokens and queue positions taken from this process's live feed. The feed is
 * subscribed before the job exists, so nothing published for it can be missed; a batch that
 * arrives out of order (a gap) is left to `finish`, which sends whatever the stored answer has beyond
 * what was streamed.
 */
export async function startChat(
  services: Services,
  { caller, jobId, model, chat }: { caller: ApiCaller; jobId: string; model: string; chat: ChatRequest },
  listeners: ChatListeners,
): Promise<ChatRun> {
  let sent = 0;
  let generating = false;
  const send = (text: string) => {
    if (text) listeners.onText(text);
    sent += text.length;
  };
  const offTokens = services.feed.onTokens(jobId, ({ offset, text }) => {
    generating = true;
    const end = offset + text.length;
    if (offset > sent || end <= sent) return;
    send(text.slice(sent - offset));
  });
  const onQueued = listeners.onQueued;
  const offQueue = onQueued
    ? services.feed.onTeamQueue(caller.team.id, (event) => {
        const entry = generating ? undefined : event.waiting.find((waiting) => waiting.jobId === jobId);
        if (entry) onQueued({ position: entry.position, etaMs: entry.etaMs });
      })
    : () => undefined;
  const unsubscribe = () => {
    offTokens();
    offQueue();
  };
  try {
    await services.jobs.submitChat(caller, jobId, model, chat);
  } catch (error) {
    unsubscribe();
    throw error;
  }
  return {
    async finish() {
      try {
        const outcome = await services.jobs.chatResult(jobId);
        send(outcome.text.slice(sent));
        return outcome;
      } finally {
        unsubscribe();
      }
    },
    abandon() {
      unsubscribe();
      // The job may already be over; either way nothing is left to do for this client.
      services.jobs.abandon(jobId).catch(() => undefined);
    },
  };
}
