import { Prisma, type PrismaClient } from '../generated/prisma/client';
import type { UsageKind } from '../generated/prisma/enums';
import { catalogCost, type CatalogEntry } from './catalog-mapping';

/**
 * The usage ledger: one UsageRecord per model request, written by the activity that made it as the
 * request ends (completed, failed, cut or cancelled), and the UsageDay it adds to, in one
 * statement. Budgets are charged from the records; the usage page reads the days. Both are
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
}

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
 *
 * One statement (a transaction of six before): the record, charged to its job's owners as the row
 * names them; the job's `usageCounted` flag, set by the job's first record; the day's row. A
 * review's items are charged in parallel, and a count of the job's records in the same statement
 * would not see a concurrent transaction's record, so two could each find theirs the first. The
 * flag's conditional update decides instead: the second waits for the first's row lock and, under
 * READ COMMITTED, checks the condition again on the committed row, so exactly one sets it. A record
 * the statement can see (one written before the flag existed) means this one is not the first.
 */
export async function recordUsage(prisma: PrismaClient, event: UsageEvent, at = new Date()): Promise<{ kind: UsageKind; team: string } | null> {
  const { entry, promptTokens, completionTokens } = event;
  const costUsd = catalogCost(entry, promptTokens, completionTokens);
  const rows = await prisma.$queryRaw<{ kind: UsageKind; team: string }[]>`
    WITH job AS (
      SELECT j."id", j."teamId", j."userId", j."apiKeyId", team."slug",
        CASE WHEN ${event.kind}::"UsageKind" = 'generation' AND j."kind" = 'chat' THEN 'chat'::"UsageKind" ELSE ${event.kind}::"UsageKind" END AS "kind"
      FROM "Job" j JOIN "Team" team ON team."id" = j."teamId"
      WHERE j."id" = ${event.jobId}::uuid
    ),
    record AS (
      INSERT INTO "UsageRecord" ("key", "jobId", "teamId", "userId", "apiKeyId", "kind", "model", "backendId", "servedModel",
        "promptTokens", "completionTokens", "estimated", "inputPricePer1k", "outputPricePer1k", "costUsd", "createdAt")
      SELECT ${event.key}, job."id", job."teamId", job."userId", job."apiKeyId", job."kind", ${entry.name}, ${event.backendId}, ${event.servedModel},
        ${promptTokens}, ${completionTokens}, ${event.estimated ?? false}, ${entry.inputPricePer1k}, ${entry.outputPricePer1k}, ${costUsd}, ${at}
      FROM job
      ON CONFLICT DO NOTHING
      RETURNING "jobId", "teamId", "userId", "apiKeyId", "kind"
    ),
    first AS (
      UPDATE "Job" SET "usageCounted" = true
      WHERE "id" = (SELECT "jobId" FROM record) AND NOT "usageCounted"
        AND NOT EXISTS (SELECT 1 FROM "UsageRecord" earlier WHERE earlier."jobId" = ${event.jobId}::uuid)
      RETURNING "id"
    ),
    day AS (${addToDay(utcDay(at), { model: entry.name, promptTokens, completionTokens, costUsd })})
    SELECT record."kind"::text AS "kind", job."slug" AS "team" FROM record, job`;
  return rows[0] ?? null;
}

interface DayIncrement {
  model: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/**
 * Adds the statement's `record` to its day's row, as one of the day's jobs if `first` counted it;
 * an insert or an increment in one statement, so concurrent requests both count.
 */
function addToDay(day: string, d: DayIncrement) {
  return Prisma.sql`
    INSERT INTO "UsageDay" ("day", "teamId", "userId", "apiKeyId", "model", "kind", "promptTokens", "completionTokens", "costUsd", "requests", "jobs")
    SELECT ${day}::date, r."teamId", r."userId", COALESCE(r."apiKeyId"::text, ''), ${d.model}, r."kind", ${d.promptTokens}, ${d.completionTokens}, ${d.costUsd}, 1,
      (SELECT count(*) FROM first)::int
    FROM record r
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
