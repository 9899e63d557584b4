import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { PrismaClient } from '../server/generated/prisma/client';
import type { JobKind } from '../server/generated/prisma/enums';
import { databaseUnavailableFailure, isDatabaseUnavailable } from '../server/db/unavailable';
import { BackendError } from '../server/llm/errors';
import { estimatePromptTokens } from '../server/llm/estimate';
import type { LlmBackend } from '../server/llm/types';
import { jobUpdateRooms, type Publisher } from '../server/realtime/events';
import { catalogCost, concreteModel, type CatalogEntry } from '../server/services/catalog-mapping';
import type { CatalogLookup } from '../server/services/catalog-lookup';
import type { JobMetrics } from '../server/metrics/jobs';
import { attemptKey, recordUsage, type UsageEvent } from '../server/services/usage-ledger';
import { JOB_ID } from '../server/tracing';
import { traceModelCall, traceWaitForSlot } from '../server/tracing/job-spans';
import { holdCurrentLease, type LeaseClient } from './attempt-lease';
import { TextBatcher } from './batcher';
import { estimateGeneration, GENERATION_PROGRESS_MS, streamSpeed, type LengthBook, type Progress, type SpeedBook } from './progress';
import type { GenerateInput, GenerateOutput } from './types';

/**
 * The backends a worker can call, by the ids the scheduler grants: live, following the stored
 * configuration (server/llm/live-registry.ts), hence asynchronous.
 */
export interface BackendRegistry {
  get(backendId: string): Promise<LlmBackend | undefined>;
}

/** The granted backend; one removed since the grant fails this attempt, and the job queues again. */
export async function requireBackend(backends: BackendRegistry, backendId: string): Promise<LlmBackend> {
  const backend = await backends.get(backendId);
  if (!backend) throw ApplicationFailure.retryable(`this worker has no backend ${backendId}`, 'BackendUnavailable');
  return backend;
}

/**
 * The catalogue entry of a job's model and the concrete model the granted backend serves it as.
 * An entry gone from the catalogue fails the job; a mapping gone from this backend's kind (an
 * admin's edit the grant did not see yet) is this backend's failure, so the job queues again.
 */
export async function requireServed(catalog: CatalogLookup, model: string, backend: LlmBackend): Promise<{ entry: CatalogEntry; concrete: string }> {
  const entry = await catalog.find(model);
  if (!entry) throw ApplicationFailure.nonRetryable(`the model ${model} is no longer in the catalogue`, 'InvalidJob');
  const concrete = concreteModel(entry, backend.kind);
  if (!concrete) throw ApplicationFailure.retryable(`${backend.id} (${backend.kind}) does not serve ${model}`, 'BackendUnavailable');
  return { entry, concrete };
}

/** Often enough that a cancellation reaches a silent model call within a second. */
export const KEEPALIVE_MS = 400;

interface Checkpoint {
  text: string;
  /** Completion tokens in `text`: streamed pieces, one token each as Ollama and OpenAI send them. */
  tokens: number;
}

export interface GenerationDeps {
  prisma: PrismaClient;
  publisher: Publisher;
  backends: BackendRegistry;
  catalog: CatalogLookup;
  metrics: JobMetrics;
  progress: Progress;
  /** Heartbeats whose answers an attempt awaits, to know it still holds its grant (attempt-lease.ts). */
  temporal: { activity: LeaseClient };
  /** Backends' speeds as this worker measured them, for the ETA of a stream that just began. */
  speeds: SpeedBook;
  /** Models' typical answer lengths, for the ETA. */
  lengths: LengthBook;
  /** How often streamed text is pushed to the job's room. */
  flushIntervalMs?: number;
  /** How often partial output is written to the job row (kept on cancel or crash). */
  persistIntervalMs?: number;
}

export function createGenerationActivities(deps: GenerationDeps) {
  const { prisma, publisher, backends, catalog, metrics, progress, speeds, lengths, temporal, flushIntervalMs = 75, persistIntervalMs = 1000 } = deps;

  return {
    async generate(input: GenerateInput): Promise<GenerateOutput> {
      const ctx = Context.current();
      const backend = await requireBackend(backends, input.backendId);
      const { entry, concrete } = await requireServed(catalog, input.model, backend);
      // A retry continues from the last heartbeat checkpoint, or — on a new grant, after another
      // backend failed — from the output saved so far (read as the attempt starts), instead of
      // starting over. Until then this attempt's heartbeats carry no checkpoint, as the attempts
      // before it left none: a retry of it reads the saved output in turn.
      const heartbeated = ctx.info.heartbeatDetails as Checkpoint | undefined;
      let text = heartbeated?.text ?? '';
      let tokens = heartbeated?.tokens ?? 0;
      let known = heartbeated !== undefined;
      // Nothing touches the row or the backend before this attempt holds its lease: an earlier
      // attempt of it in this process has ended, and Temporal has acknowledged this one as current.
      const lease = await holdCurrentLease(temporal.activity, input.jobId, () => (known ? ({ text, tokens } satisfies Checkpoint) : undefined));
      try {
        await lease.ready();
        const startedAt = new Date();
        const job = await startAttempt(prisma, input.jobId, { backendId: backend.id, servedModel: concrete, checkpoint: heartbeated, startedAt });
        const resumed: Checkpoint = job.checkpoint;
        const resumeFrom = resumed.text;
        text = resumeFrom;
        tokens = resumed.tokens;
        known = true;
        if (job.firstStart) metrics.jobStarted({ pool: input.pool, tier: job.tier, createdAt: job.createdAt, startedAt });
        const charge = (tokens: Pick<UsageEvent, 'servedModel' | 'promptTokens' | 'completionTokens' | 'estimated'>) =>
          chargeRequest({ prisma, metrics }, { key: attemptKey(ctx.info), jobId: input.jobId, kind: 'generation', entry, backendId: backend.id, ...tokens });
        const update = { jobId: input.jobId, projectId: input.projectId, status: 'running' as const };
        publisher.emit(jobUpdateRooms(update), 'job:update', update);

        const typicalTokens = await lengths.typical(input.model, job.kind);
        let firstTokenAt: number | null = null;
        let lastProgress = 0;
        const measuredSpeed = () => (firstTokenAt === null ? null : streamSpeed(tokens - resumed.tokens - 1, Date.now() - firstTokenAt));
        const reportProgress = () => {
          lastProgress = Date.now();
          const tokensPerSecond = measuredSpeed() ?? speeds.get(backend.id);
          progress.generating(input.jobId, tokens, tokensPerSecond, estimateGeneration({ tokens, typicalTokens, outputCap: input.outputCap, tokensPerSecond }));
        };
        reportProgress();
        let persisted = text.length;
        let lastPersist = Date.now();
        const persist = async () => {
          if (text.length === persisted) return;
          persisted = text.length;
          lastPersist = Date.now();
          await prisma.job.update({ where: { id: input.jobId }, data: { output: text, completionTokens: tokens } });
        };
        // The checkpoint goes out on a timer, not with each token or batch: every heartbeat call
        // encodes the whole text so far, and the worker forwards at most one per
        // maxHeartbeatThrottleInterval to Temporal anyway, so per-batch calls would mostly be
        // encoded only to be dropped. The timer also keeps heartbeats (and so cancellation and
        // liveness) flowing while the model is silent, e.g. loading.
        const heartbeat = () => ctx.heartbeat({ text, tokens } satisfies Checkpoint);
        const batcher = new TextBatcher(resumeFrom.length, flushIntervalMs, (offset, chunk) => {
          publisher.emit(`job:${input.jobId}`, 'job:tokens', { jobId: input.jobId, offset, text: chunk, sentAt: Date.now() });
        });
        // Flushing first keeps the checkpoint equal to what clients were sent; the failure path
        // below does the same, as a failed attempt reports its last heartbeat to its retry.
        const keepAlive = setInterval(() => {
          batcher.flush();
          heartbeat();
          if (Date.now() - lastProgress >= GENERATION_PROGRESS_MS) reportProgress();
        }, KEEPALIVE_MS);

        // A resumed attempt asks only for what is left of the job's cap.
        const remaining = input.outputCap - resumed.tokens;
        try {
          if (remaining <= 0) {
            return { text, servedModel: concrete, backendId: backend.id, promptTokens: 0, completionTokens: tokens, costUsd: catalogCost(entry, 0, tokens), truncated: true };
          }
          // Only an attempt's first request leaves right after its grant; a retry waited out a backoff.
          const sentAt = Date.now();
          if (ctx.info.attempt === 1) {
            metrics.dispatched(input.grantedAt, sentAt);
            traceWaitForSlot(input.jobId, input);
          }
          const traced = { [JOB_ID]: input.jobId, 'switchyard.backend.id': backend.id, 'gen_ai.request.model': concrete };
          const result = await traceModelCall(traced, () => backend.streamChat(
            { model: concrete, messages: input.messages, signal: AbortSignal.any([ctx.cancellationSignal, lease.signal]), resumeFrom, maxTokens: remaining, ...input.sampling },
            (piece) => {
              if (tokens === resumed.tokens) {
                firstTokenAt = Date.now();
                metrics.firstToken({ backend: backend.id, model: input.model }, (firstTokenAt - sentAt) / 1000);
              }
              text += piece;
              tokens++;
              batcher.push(piece);
              if (Date.now() - lastPersist >= persistIntervalMs) void persist().catch(() => undefined);
            },
          ));
          batcher.flush();
          const speed = measuredSpeed();
          if (speed !== null) speeds.record(backend.id, speed);
          await charge({ servedModel: result.model, promptTokens: result.promptTokens, completionTokens: result.completionTokens });
          const completionTokens = resumed.tokens + result.completionTokens;
          return {
            text: result.text,
            servedModel: result.model,
            backendId: backend.id,
            promptTokens: result.promptTokens,
            completionTokens,
            costUsd: catalogCost(entry, result.promptTokens, completionTokens),
            truncated: result.truncated,
          };
        } catch (error) {
          batcher.flush();
          heartbeat();
          // With the database down this write fails too; the heartbeat carries the text to the
          // retry, and the failure to report is the one that ended the request.
          await persist().catch(() => undefined);
          // What the backend produced before failing was work done, even if a retry redoes some of it.
          await chargeFailed(charge, concrete, [...input.messages, { content: resumeFrom }], tokens - resumed.tokens);
          if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
          if (lease.signal.aborted) throw lease.signal.reason;
          throw toFailure(error, backend.id);
        } finally {
          clearInterval(keepAlive);
        }
      } finally {
        lease.end();
      }
    },
  };
}

/**
 * Charges one model request: its usage record (the budget's and the usage page's source) and the
 * token metrics, both as the request ends, so the two agree.
 */
export async function chargeRequest(
  { prisma, metrics }: { prisma: PrismaClient; metrics: JobMetrics },
  event: UsageEvent,
): Promise<void> {
  const recorded = await recordUsage(prisma, event);
  if (recorded) metrics.tokensUsed({ ...recorded, model: event.entry.name, backend: event.backendId, prompt: event.promptTokens, completion: event.completionTokens });
}

/**
 * Charges a request that failed or was cancelled: the completion tokens it streamed, and, when it
 * streamed any (so its backend surely read the prompt, though it never reported the count), the
 * prompt as estimated. A failure to record is logged, not thrown: the request's own error matters more.
 */
export async function chargeFailed(
  charge: (tokens: Pick<UsageEvent, 'servedModel' | 'promptTokens' | 'completionTokens' | 'estimated'>) => Promise<void>,
  servedModel: string,
  prompt: ReadonlyArray<{ content: string }>,
  completionTokens: number,
): Promise<void> {
  const streamed = completionTokens > 0;
  await charge({ servedModel, promptTokens: streamed ? estimatePromptTokens(prompt) : 0, completionTokens, estimated: streamed }).catch((error: unknown) =>
    log.warn('usage record failed', { error: error instanceof Error ? error.message : String(error) }),
  );
}

/** The job's row as an attempt starts: its kind, its tier's name, whether this is its first start, and the checkpoint it resumes from. */
interface StartedJob {
  kind: JobKind;
  createdAt: Date;
  tier: string;
  firstStart: boolean;
  checkpoint: Checkpoint;
}

/**
 * Marks the job running on this attempt's backend, from `checkpoint` or else from the output saved
 * so far; sets its start if no attempt set it before (retries keep the first); and reads what the
 * attempt needs of it, in one statement: a read of the saved output, a Prisma update with the
 * tier's relations and a second update for the start were eight. `old` locks the row before the
 * update, so its `startedAt` is the value the update replaces (RETURNING sees only the new one).
 */
async function startAttempt(
  prisma: PrismaClient,
  jobId: string,
  attempt: { backendId: string; servedModel: string; checkpoint: Checkpoint | undefined; startedAt: Date },
): Promise<StartedJob> {
  const { backendId, servedModel, checkpoint, startedAt } = attempt;
  const [job] = await prisma.$queryRaw<(Omit<StartedJob, 'checkpoint'> & { output: string; completionTokens: number })[]>`
    WITH old AS (SELECT "id", "startedAt" FROM "Job" WHERE "id" = ${jobId}::uuid FOR UPDATE),
    job AS (
      UPDATE "Job" j SET
        "status" = 'running', "backendId" = ${backendId}, "servedModel" = ${servedModel}, "attempts" = j."attempts" + 1,
        "output" = COALESCE(${checkpoint?.text ?? null}::text, j."output"), "completionTokens" = COALESCE(${checkpoint?.tokens ?? null}::int, j."completionTokens"),
        "startedAt" = COALESCE(j."startedAt", ${startedAt}), "updatedAt" = ${startedAt}
      FROM old WHERE j."id" = old."id"
      RETURNING j."teamId", j."kind", j."createdAt", j."output", j."completionTokens", old."startedAt" IS NULL AS "firstStart"
    )
    SELECT job."kind"::text AS "kind", job."createdAt", job."output", job."completionTokens", job."firstStart", tier."name" AS "tier"
    FROM job JOIN "Team" team ON team."id" = job."teamId" JOIN "Tier" tier ON tier."id" = team."tierId"`;
  // As Prisma's update failed on a missing row: the job was deleted (with its team) under its workflow.
  if (!job) throw new Error(`job ${jobId} does not exist`);
  const { output, completionTokens, ...started } = job;
  return { ...started, checkpoint: { text: output, tokens: completionTokens } };
}

/**
 * What a failed model request is the fault of: the backend's (retry it, then another backend), the
 * request's (no retry), or the database's (a usage record or checkpoint that could not be written:
 * the same step runs again once the database is back, and the backend is not blamed).
 */
export function toFailure(error: unknown, backendId: string): ApplicationFailure {
  if (error instanceof BackendError) {
    const message = `${backendId}: ${error.message}`;
    return error.retryable
      ? ApplicationFailure.retryable(message, 'BackendUnavailable')
      : ApplicationFailure.nonRetryable(message, 'BackendRejected');
  }
  if (isDatabaseUnavailable(error)) return databaseUnavailableFailure(error);
  return ApplicationFailure.retryable(error instanceof Error ? error.message : String(error), 'GenerationError');
}
