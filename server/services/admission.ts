import type { Prisma, PrismaClient, Tier } from '../generated/prisma/client';
import { SpanStatusCode } from '@opentelemetry/api';
import { LOCK_WAIT_TRANSACTION } from '../db/lock-wait';
import { formatUtc, LimitError, ValidationError } from '../errors';
import { JOB_ID, tracer } from '../tracing';
import { loadServing } from './backends';
import { findCatalogEntry, tierCanServe, usableEntries } from './catalog-mapping';
import { tokensUsedSince } from './usage-ledger';

/**
 * Admission: whether a job may exist at all, decided in the web process before anything durable
 * does (no job row, no workflow). Five rules, all from the team's tier:
 *
 * - Model: the name must be a catalogue entry (found as Ollama finds names, so `tiny-stop` is
 *   `tiny-stop:latest`) that is enabled, allowed by the tier (`allowedModels`, empty = all), and
 *   served for the tier: some enabled backend of its pools maps it, or a cloud backend does and the
 *   tier falls back to cloud — the scheduler's own eligibility. A job no backend could ever serve
 *   would wait in silence, so it is refused, naming the models the tier can use. A field error.
 * - Prompt size (`maxPromptChars`): a field error.
 * - Queue cap (a collaboration counts as one job, its steps with it): a user holds at most `maxQueuedPerUser` waiting jobs (across their teams, as the
 *   scheduler counts them) plus the `maxRunningPerUser` the scheduler lets run. Admission refuses
 *   the submit that would exceed the waiting count; the scheduler holds running ≤ its limit. So
 *   queued + running ≤ maxQueued + maxRunning, and the scheduler never has to refuse a job that
 *   already exists. 0 = no cap.
 * - Queue bound: at most `maxWaitingJobs` jobs wait at once, whoever submits them (0 = no bound):
 *   the scheduler re-plans its whole waiting list as it changes and slows as it grows (bench:ceiling
 *   measures how far it goes), so admission refuses before that, naming when a place is expected
 *   to free by the scheduler's estimate. Submits by different users are not serialised against
 *   each other, so a burst may pass the bound by as many submits as run at once: set it with margin.
 * - Token budget: a team's model requests in the current period may use `tokenBudget` prompt +
 *   completion tokens (0 = unlimited): every generation attempt, failed and retried ones too, and
 *   every review, as the usage ledger records them when each request ends
 *   (server/services/usage-ledger.ts). Periods are fixed windows aligned to multiples of
 *   `budgetPeriodSeconds` since the epoch, so every member sees the same reset time. Jobs already
 *   admitted may still take a team past its budget.
 */

// Namespace of the two-key advisory lock, so it cannot meet another feature's lock keys.
const ADMISSION_LOCK = 0x5377_6164; // "Swad"

export type AdmissionTier = Pick<
  Tier,
  'name' | 'allowedModels' | 'poolPreference' | 'cloudFallback' | 'maxPromptChars' | 'maxQueuedPerUser' | 'tokenBudget' | 'budgetPeriodSeconds'
>;

export interface AdmissionRequest {
  userId: string;
  team: { id: string; name: string; tier: AdmissionTier };
  /** As submitted; the job records the catalogue name it refers to. */
  model: string;
  requirements: string;
  /** Characters the prompt-size rule counts, when not the requirements' (a chat's whole conversation). */
  promptChars?: number;
  /** The job admitted again (a retry); a new job's id is known once it is created. */
  jobId?: string;
}

export interface AdmissionSteps<T> {
  /** The job this submit already created (same client key), if any: returned whatever the limits. */
  existing?(tx: Prisma.TransactionClient): Promise<T | null>;
  /** `model`: the catalogue name the submitted one refers to. */
  create(tx: Prisma.TransactionClient, admitted: { model: string }): Promise<T>;
}

type Refusal =
  | { kind: 'full'; waiting: number; placeFreesWith: string | null }
  | { kind: 'queue'; queuedJobIds: string[] }
  | { kind: 'budget'; used: number; resetsAt: Date };

interface AdmissionDeps {
  prisma: PrismaClient;
  /** Milliseconds until a waiting job starts, by the scheduler's plan; null when it cannot say. */
  startsIn(jobId: string): Promise<number | null>;
  /** Jobs that may wait at once, over every user (MAX_WAITING_JOBS); 0: no bound. */
  maxWaitingJobs: number;
  now?: () => number;
}

/** When the scheduler cannot say when a place frees in a full queue: try again this much later. */
const FULL_QUEUE_FALLBACK_MS = 60_000;

/** The current budget window of a period, aligned to multiples of it since the epoch. */
export function budgetWindow(periodSeconds: number, now: number): { start: Date; end: Date } {
  const periodMs = periodSeconds * 1000;
  const start = Math.floor(now / periodMs) * periodMs;
  return { start: new Date(start), end: new Date(start + periodMs) };
}

const count = (n: number) => n.toLocaleString('en-US');

/** "day", "hour", "30 minutes", "2 days": the budget period as the refusal names it. */
export function describePeriod(seconds: number): string {
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  const [size, unit] = units.find(([size]) => seconds % size === 0)!;
  const n = seconds / size;
  return n === 1 ? unit : `${count(n)} ${unit}s`;
}

/** The catalogue name a submit refers to, or why the tier cannot have it (see the header). */
export async function requireServableModel(db: Pick<PrismaClient, 'catalogModel' | 'backend'>, tier: AdmissionTier, submitted: string): Promise<string> {
  const { entries, backends } = await loadServing(db);
  const usable = usableEntries(tier, entries, backends).map((entry) => entry.name);
  const offer = usable.length > 0 ? `the ${tier.name} tier can use ${usable.join(', ')}` : `no model is available to the ${tier.name} tier right now`;
  const entry = findCatalogEntry(entries, submitted);
  if (!entry) throw new ValidationError(`There is no model ${submitted} in the catalogue; ${offer}.`, 'model');
  if (!entry.enabled) throw new ValidationError(`${entry.name} is disabled; ${offer}.`, 'model');
  if (tier.allowedModels.length > 0 && !tier.allowedModels.includes(entry.name)) {
    throw new ValidationError(`The ${tier.name} tier cannot use ${entry.name}; ${offer}.`, 'model');
  }
  if (!tierCanServe(tier, backends, entry.name)) {
    throw new ValidationError(`No backend the ${tier.name} tier can use serves ${entry.name}; ${offer}.`, 'model');
  }
  return entry.name;
}

export function createAdmission({ prisma, startsIn, maxWaitingJobs, now = Date.now }: AdmissionDeps) {
  function checkRequest({ team: { tier }, requirements, promptChars }: AdmissionRequest): void {
    const chars = promptChars ?? requirements.length;
    if (chars > tier.maxPromptChars) {
      const what = promptChars === undefined ? 'Requirements are' : 'The messages are';
      throw new ValidationError(`${what} ${count(chars)} characters; the ${tier.name} tier allows ${count(tier.maxPromptChars)}.`, promptChars === undefined ? 'requirements' : 'messages');
    }
  }

  async function refusalOf(tx: Prisma.TransactionClient, { userId, team }: AdmissionRequest, at: number): Promise<Refusal | null> {
    const { tier } = team;
    if (maxWaitingJobs > 0) {
      const waiting = await tx.job.count({ where: { status: 'queued' } });
      if (waiting >= maxWaitingJobs) {
        // A place frees once this many of the waiting jobs have started: the one that many places
        // in, by age (the scheduler's order differs by priority and fair share, not by much in count).
        const next = await tx.job.findFirst({ where: { status: 'queued' }, orderBy: { createdAt: 'asc' }, skip: waiting - maxWaitingJobs, select: { id: true } });
        return { kind: 'full', waiting, placeFreesWith: next?.id ?? null };
      }
    }
    if (tier.maxQueuedPerUser > 0) {
      // A collaboration is one job here however many steps it has: its steps are queued with it.
      const queued = await tx.job.findMany({ where: { userId, status: 'queued', parentId: null }, select: { id: true } });
      if (queued.length >= tier.maxQueuedPerUser) return { kind: 'queue', queuedJobIds: queued.map((j) => j.id) };
    }
    if (tier.tokenBudget > 0) {
      const window = budgetWindow(tier.budgetPeriodSeconds, at);
      const used = await tokensUsedSince(tx, team.id, window.start);
      if (used >= tier.tokenBudget) return { kind: 'budget', used, resetsAt: window.end };
    }
    return null;
  }

  async function refusalError(refusal: Refusal, { team }: AdmissionRequest, at: number): Promise<LimitError> {
    const { tier } = team;
    if (refusal.kind === 'budget') {
      return new LimitError(
        `${team.name} has used ${count(refusal.used)} of the ${count(tier.tokenBudget)} tokens the ${tier.name} tier allows per ` +
          `${describePeriod(tier.budgetPeriodSeconds)}; the budget resets at ${formatUtc(refusal.resetsAt)}.`,
        refusal.resetsAt,
      );
    }
    if (refusal.kind === 'full') {
      const startsInMs = refusal.placeFreesWith === null ? null : await startsIn(refusal.placeFreesWith);
      const retryAt = new Date(at + (startsInMs ?? FULL_QUEUE_FALLBACK_MS));
      return new LimitError(`The queue is full (${count(refusal.waiting)} jobs waiting); try at ${formatUtc(retryAt)}.`, retryAt);
    }
    const waits = await Promise.all(refusal.queuedJobIds.map((id) => startsIn(id)));
    const soonest = Math.min(...waits.filter((ms): ms is number => ms !== null));
    const limit = `You already have ${refusal.queuedJobIds.length} queued jobs, the limit of the ${tier.name} tier`;
    if (!Number.isFinite(soonest)) {
      return new LimitError(`${limit}. You can submit another when one of them starts, or after cancelling one.`);
    }
    const retryAt = new Date(at + soonest);
    return new LimitError(`${limit}. The next one is expected to start at ${formatUtc(retryAt)}; submit again then.`, retryAt);
  }

  /**
   * Creates the job if the request passes every rule, in one transaction holding the user's
   * advisory lock, so concurrent submits by one user are counted one after the other and
   * admit exactly as many jobs as the cap allows. Throws the refusal otherwise.
   */
  async function admitUnderLock<T>(request: AdmissionRequest, steps: AdmissionSteps<T>): Promise<{ job: T; created: boolean }> {
    type Outcome = { job: T; created: boolean; refusal?: never } | { refusal: Refusal; at: number };
    const outcome = await prisma.$transaction(async (tx): Promise<Outcome> => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMISSION_LOCK}::int, hashtext(${request.userId}))`;
      const existing = (await steps.existing?.(tx)) ?? null;
      if (existing) return { job: existing, created: false };
      const model = await requireServableModel(tx, request.team.tier, request.model);
      checkRequest(request);
      const at = now();
      const refusal = await refusalOf(tx, request, at);
      if (refusal) return { refusal, at };
      return { job: await steps.create(tx, { model }), created: true };
    }, LOCK_WAIT_TRANSACTION);
    // The scheduler is asked for its estimate after the lock is released: it may be slow or down.
    if (outcome.refusal) throw await refusalError(outcome.refusal, request, outcome.at);
    return outcome;
  }

  return {
    /** admitUnderLock, as the job's `job.admission` span. */
    admit<T>(request: AdmissionRequest, steps: AdmissionSteps<T>): Promise<{ job: T; created: boolean }> {
      return tracer().startActiveSpan('job.admission', { attributes: { 'switchyard.model': request.model } }, async (span) => {
        try {
          const admitted = await admitUnderLock(request, steps);
          const jobId = request.jobId ?? idOf(admitted.job);
          if (jobId) span.setAttribute(JOB_ID, jobId);
          return admitted;
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw error;
        } finally {
          span.end();
        }
      });
    },
  };
}

function idOf(job: unknown): string | undefined {
  return typeof job === 'object' && job !== null && 'id' in job && typeof job.id === 'string' ? job.id : undefined;
}

export type Admission = ReturnType<typeof createAdmission>;
