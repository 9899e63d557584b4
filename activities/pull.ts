import { ApplicationFailure, Context } from '@temporalio/activity';
import { BackendError, type BackendErrorCode } from '../server/llm/errors';
import { residencyRoom, roomName, type Publisher, type PullProgressEvent } from '../server/realtime/events';
import { requireBackend, type BackendRegistry } from './generate';
import type { PullModelInput } from './types';

const TRANSIENT = new Set<BackendErrorCode>(['unavailable', 'stream_cut', 'timeout', 'aborted']);

/** Ollama reports a layer's progress every 60 ms; admins need a few updates a second. */
const PROGRESS_INTERVAL_MS = 250;

export function createPullActivities({ backends, publisher }: { backends: BackendRegistry; publisher: Publisher }) {
  return {
    /** Pulls a model onto an Ollama backend, relaying its progress to the admins' residency room. */
    async pullModel({ backendId, model }: PullModelInput): Promise<void> {
      const backend = await requireBackend(backends, backendId);
      if (!backend.pull) throw ApplicationFailure.nonRetryable(`${backendId} is not an Ollama backend`, 'PullRefused');
      const room = roomName(residencyRoom);
      const send = (event: Omit<PullProgressEvent, 'backendId' | 'model'>) => publisher.emit(room, 'admin:pull', { backendId, model, ...event });
      const context = Context.current();
      let sentAt = 0;
      try {
        await backend.pull(
          model,
          (progress) => {
            context.heartbeat();
            const now = performance.now();
            if (now - sentAt < PROGRESS_INTERVAL_MS) return;
            sentAt = now;
            send({ status: progress.status, total: progress.total ?? null, completed: progress.completed ?? null, done: false, error: null });
          },
          context.cancellationSignal,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        send({ status: 'failed', total: null, completed: null, done: true, error: message });
        // Ollama's own answer (no such model, no registry) is final; a lost connection is retried.
        if (error instanceof BackendError && TRANSIENT.has(error.code)) throw error;
        throw ApplicationFailure.nonRetryable(message, 'PullRefused');
      }
      send({ status: 'success', total: null, completed: null, done: true, error: null });
    },
  };
}
