import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { UsageKind } from '../generated/prisma/enums';
import { LOCK_WAIT_TRANSACTION } from '../db/lock-wait';
import { catalogCost, type CatalogEntry } from './catalog-mapping';

/**
 * The usage ledger: one UsageRecord per model request, written by the activity that made it as the
 * request ends (completed, failed, cut or cancelled), and the UsageDay it adds to, in one
 * transaction. Budgets are charged from the records; the usage page reads the days. Both are
 * written once per `key` (the attempt), so Temporal retrying the write cannot count twice.
 */

export interface UsageEvent {
  /** The request it counts: workflow run, activity and attempt (see attemptKey). */
  key: string;
  jobId: string;
  /** `generation` is recorded as `chat` for a chat job. */
  kind: Exclude<UsageKind, 'chat'>;
  /** The catalogue entry, priced as it is now: the record keeps these prices. */
  entry: Pick<CatalogEntry, 'name' | 'inputPricePer1k' | 'outputPricePer1k'>;
  backendId: string;
  servedModel: string;
  promptTokens: number;
  completionTokens: number;
  /** The prompt count is an estimate: the request failed before its backend reported one. */
  estimated?: boolean;
  /** The job's owners, when the caller has just read them (usageOwnerSelect): saves reading them again. */
  owner?: UsageOwner;
}

/** What a usage record is charged to, of its job's row. */
export const usageOwnerSelect = { teamId: true, userId: true, apiKeyId: true, kind: true, team: { select: { slug: true } } } satisfies Prisma.JobSelect;
export type UsageOwner = Prisma.JobGetPayload<{ select: typeof usageOwnerSelect }>;

/** What identifies an activity attempt across retries and runs: its usage record's key. */
export function attemptKey(info: { workflowExecution?: { workflowId: string; runId: string }; activityId: string; attempt: number }): string {
  const run = info.workflowExecution;
  return `${run ? `${run.workflowId}/${run.runId}` : 'standalone'}/${info.activityId}/${info.attempt}`;
}

/** The UTC day a time falls in, as the UsageDay rows name it. */
export const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Records one request's tokens and cost; returns the kind recorded and the team's slug, or null
 * when nothing was: the key was recorded before, or the job is gone (deleted when its workflow
 * could not start).
 */
export async function recordUsage(prisma: PrismaClient, event: UsageEvent, at = new Date()): Promise<{ kind: UsageKind; team: string } | null> {
  const { entry, promptTokens, completionTokens } = event;
  const costUsd = catalogCost(entry, promptTokens, completionTokens);
  return prisma.$transaction(async (tx) => {
    const job = event.owner ?? (await tx.job.findUnique({ where: { id: event.jobId }, select: usageOwnerSelect }));
    if (!job) return null;
    const kind: UsageKind = event.kind === 'generation' && job.kind === 'chat' ? 'chat' : event.kind;
    // A review's items are requested in parallel: their records are written one job at a time
    // (until commit), so the count below sees every earlier record of the job and exactly one
    // transaction finds its own the first.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${event.jobId}, 0))`;
    const { count } = await tx.usageRecord.createMany({
      data: [
        {
          key: event.key,
          jobId: event.jobId,
          teamId: job.teamId,
          userId: job.userId,
          apiKeyId: job.apiKeyId,
          kind,
          model: entry.name,
          backendId: event.backendId,
          servedModel: event.servedModel,
          promptTokens,
          completionTokens,
          estimated: event.estimated ?? false,
          inputPricePer1k: entry.inputPricePer1k,
          outputPricePer1k: entry.outputPricePer1k,
          costUsd,
          createdAt: at,
        },
      ],
      skipDuplicates: true,
    });
    if (count === 0) return null;
    const first = (await tx.usageRecord.count({ where: { jobId: event.jobId } })) === 1;
    await addToDay(tx, {
      day: utcDay(at),
      teamId: job.teamId,
      userId: job.userId,
      apiKeyId: job.apiKeyId ?? '',
      model: entry.name,
      kind,
      promptTokens,
      completionTokens,
      costUsd,
      jobs: first ? 1 : 0,
    });
    return { kind, team: job.team.slug };
  }, LOCK_WAIT_TRANSACTION);
}

interface DayIncrement {
  day: string;
  teamId: string;
  userId: string;
  apiKeyId: string;
  model: string;
  kind: UsageKind;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  jobs: number;
}

/** Adds one request to its day's row; an insert or an increment in one statement, so concurrent requests both count. */
function addToDay(tx: Prisma.TransactionClient, d: DayIncrement) {
  return tx.$executeRaw`
    INSERT INTO "UsageDay" ("day", "teamId", "userId", "apiKeyId", "model", "kind", "promptTokens", "completionTokens", "costUsd", "requests", "jobs")
    VALUES (${d.day}::date, ${d.teamId}::uuid, ${d.userId}::uuid, ${d.apiKeyId}, ${d.model}, ${d.kind}::"UsageKind", ${d.promptTokens}, ${d.completionTokens}, ${d.costUsd}, 1, ${d.jobs})
    ON CONFLICT ("teamId", "day", "userId", "apiKeyId", "model", "kind") DO UPDATE SET
      "promptTokens" = "UsageDay"."promptTokens" + EXCLUDED."promptTokens",
      "completionTokens" = "UsageDay"."completionTokens" + EXCLUDED."completionTokens",
      "costUsd" = "UsageDay"."costUsd" + EXCLUDED."costUsd",
      "requests" = "UsageDay"."requests" + 1,
      "jobs" = "UsageDay"."jobs" + EXCLUDED."jobs"`;
}

/** Prompt + completion tokens a team's requests used since `since`: what its budget is charged. */
export async function tokensUsedSince(db: Pick<PrismaClient, 'usageRecord'>, teamId: string, since: Date): Promise<number> {
  const { _sum } = await db.usageRecord.aggregate({
    where: { teamId, createdAt: { gte: since } },
    _sum: { promptTokens: true, completionTokens: true },
  });
  return (_sum.promptTokens ?? 0) + (_sum.completionTokens ?? 0);
}

/** What one kind of request of a job was charged. */
export interface ChargedPart {
  requests: number;
  tokens: number;
  costUsd: number;
}

/** What a job was charged across every request it made (failed attempts and reviews included), and per kind. */
export interface JobCharges extends ChargedPart {
  byKind: Partial<Record<UsageKind, ChargedPart>>;
}

export async function chargesOfJob(db: Pick<PrismaClient, 'usageRecord'>, jobId: string): Promise<JobCharges> {
  const groups = await db.usageRecord.groupBy({
    by: ['kind'],
    where: { jobId },
    _sum: { promptTokens: true, completionTokens: true, costUsd: true },
    _count: { _all: true },
  });
  const charges: JobCharges = { requests: 0, tokens: 0, costUsd: 0, byKind: {} };
  for (const g of groups) {
    const part = { requests: g._count._all, tokens: (g._sum.promptTokens ?? 0) + (g._sum.completionTokens ?? 0), costUsd: g._sum.costUsd ?? 0 };
    charges.byKind[g.kind] = part;
    charges.requests += part.requests;
    charges.tokens += part.tokens;
    charges.costUsd += part.costUsd;
  }
  return charges;
}
