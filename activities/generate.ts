import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PrismaClient } from '../server/generated/prisma/client';
import { BackendError } from '../server/llm/errors';
import type { LlmBackend } from '../server/llm/types';
import { jobUpdateRooms, type Publisher } from '../server/realtime/events';
import { TextBatcher } from './batcher';
import type { GenerateInput, GenerateOutput } from './types';

/** The backends a worker can call, by the ids the scheduler grants. */
export interface BackendRegistry {
  get(backendId: string): LlmBackend | undefined;
}

/** The granted backend; a grant for one this worker does not know is a configuration fault. */
export function requireBackend(backends: BackendRegistry, backendId: string): LlmBackend {
  const backend = backends.get(backendId);
  if (!backend) throw ApplicationFailure.retryable(`this worker has no backend ${backendId}`, 'BackendUnavailable');
  return backend;
}

/** Often enough that a cancellation reaches a silent model call within a second. */
const KEEPALIVE_MS = 400;

interface Checkpoint {
  text: string;
}

export interface GenerationDeps {
  prisma: PrismaClient;
  publisher: Publisher;
  backends: BackendRegistry;
  /** How often streamed text is pushed to the job's room. */
  flushIntervalMs?: number;
  /** How often partial output is written to the job row (kept on cancel or crash). */
  persistIntervalMs?: number;
}

export function createGenerationActivities(deps: GenerationDeps) {
  const { prisma, publisher, backends, flushIntervalMs = 75, persistIntervalMs = 1000 } = deps;

  return {
    async generate(input: GenerateInput): Promise<GenerateOutput> {
      const ctx = Context.current();
      const backend = requireBackend(backends, input.backendId);
      // A retry continues from the last heartbeat checkpoint, or — on a new grant, after another
      // backend failed — from the output saved so far, instead of starting over.
      const checkpoint = ctx.info.heartbeatDetails as Checkpoint | undefined;
      const resumeFrom =
        checkpoint?.text ??
        (await prisma.job.findUniqueOrThrow({ where: { id: input.jobId }, select: { output: true } })).output;

      await prisma.$transaction([
        prisma.job.update({
          where: { id: input.jobId },
          data: { status: 'running', backendId: backend.id, attempts: { increment: 1 }, output: resumeFrom },
        }),
        // The first attempt's start is the job's start; retries keep it.
        prisma.job.updateMany({ where: { id: input.jobId, startedAt: null }, data: { startedAt: new Date() } }),
      ]);
      const update = { jobId: input.jobId, projectId: input.projectId, status: 'running' as const };
      publisher.emit(jobUpdateRooms(update), 'job:update', update);

      let text = resumeFrom;
      let persisted = text.length;
      let lastPersist = Date.now();
      const persist = async () => {
        if (text.length === persisted) return;
        persisted = text.length;
        lastPersist = Date.now();
        await prisma.job.update({ where: { id: input.jobId }, data: { output: text } });
      };
      // The checkpoint goes out on a timer, not with each token or batch: every heartbeat call
      // encodes the whole text so far, and the worker forwards at most one per
      // maxHeartbeatThrottleInterval to Temporal anyway, so per-batch calls would mostly be
      // encoded only to be dropped. The timer also keeps heartbeats (and so cancellation and
      // liveness) flowing while the model is silent, e.g. loading.
      const heartbeat = () => ctx.heartbeat({ text } satisfies Checkpoint);
      const batcher = new TextBatcher(resumeFrom.length, flushIntervalMs, (offset, chunk) => {
        publisher.emit(`job:${input.jobId}`, 'job:tokens', { jobId: input.jobId, offset, text: chunk, sentAt: Date.now() });
      });
      // Flushing first keeps the checkpoint equal to what clients were sent; the failure path
      // below does the same, as a failed attempt reports its last heartbeat to its retry.
      const keepAlive = setInterval(() => {
        batcher.flush();
        heartbeat();
      }, KEEPALIVE_MS);

      try {
        const result = await backend.streamChat(
          { model: input.model, messages: input.messages, signal: ctx.cancellationSignal, resumeFrom },
          (piece) => {
            text += piece;
            batcher.push(piece);
            if (Date.now() - lastPersist >= persistIntervalMs) void persist().catch(() => undefined);
          },
        );
        batcher.flush();
        return {
          text: result.text,
          model: result.model,
          backendId: backend.id,
          promptTokens: result.promptTokens,
          completionTokens: result.completionTokens,
          costUsd: result.costUsd,
        };
      } catch (error) {
        batcher.flush();
        heartbeat();
        await persist();
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw toFailure(error, backend.id);
      } finally {
        clearInterval(keepAlive);
      }
    },
  };
}

function toFailure(error: unknown, backendId: string): ApplicationFailure {
  if (error instanceof BackendError) {
    const message = `${backendId}: ${error.message}`;
    return error.retryable
      ? ApplicationFailure.retryable(message, 'BackendUnavailable')
      : ApplicationFailure.nonRetryable(message, 'BackendRejected');
  }
  return ApplicationFailure.retryable(error instanceof Error ? error.message : String(error), 'GenerationError');
}
