import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PrismaClient } from '../server/generated/prisma/client';
import { jobUpdateRooms, type Publisher } from '../server/realtime/events';
import { catalogCost } from '../server/services/catalog-mapping';
import type { CatalogLookup } from '../server/services/catalog-lookup';
import { clean, parseFindings, REVIEW_FORMAT, SEVERITIES, type Finding, type FindingSet } from '../server/services/review-findings';
import { diffLines, type ReviewDepth, type ReviewRequest } from '../server/services/review-input';
import type { JobMetrics } from '../server/metrics/jobs';
import { attemptKey, type UsageEvent } from '../server/services/usage-ledger';
import { chargeFailed, chargeRequest, KEEPALIVE_MS, requireBackend, requireServed, toFailure, type BackendRegistry } from './generate';
import { holdCurrentLease, type LeaseClient } from './attempt-lease';
import type { ReviewItemInput, ReviewItemOutcome } from './types';

const DEPTH_PROMPT: Record<ReviewDepth, string> = {
  quick: 'You review code. Report only real bugs and security problems in the lines shown; skip style.',
  standard: 'You review code as a careful colleague: bugs, unhandled edge cases, security, and confusing code in the lines shown.',
  thorough:
    'You review code as a senior engineer: correctness, edge cases, security, performance, concurrency, error handling ' +
    'and readability of the lines shown, with a concrete fix for each problem.',
};

interface ReviewJobDeps {
  prisma: PrismaClient;
  publisher: Publisher;
  backends: BackendRegistry;
  catalog: CatalogLookup;
  metrics: JobMetrics;
  /** Heartbeats whose answers an attempt awaits, to know it still holds its grant (attempt-lease.ts). */
  temporal: { activity: LeaseClient };
}

/**
 * The lines a reviewer sees, numbered as the file numbers them so findings come back anchored:
 * source lines from the chunk's first line; a diff's lines by their line in the new file
 * (removed lines unnumbered).
 */
export function numberedForReview(content: string, startLine: number, isDiff: boolean): { text: string; first: number; last: number } {
  if (isDiff) {
    const lines = diffLines(content);
    const numbers = lines.map((line) => line.newLine).filter((n): n is number => n !== null);
    const text = lines.map((line) => (line.kind === '@' ? line.text : `${String(line.newLine ?? '').padStart(5)} ${line.kind}${line.text}`)).join('\n');
    return { text, first: Math.min(...numbers, 1), last: Math.max(...numbers, 1) };
  }
  const lines = content.split('\n');
  return { text: lines.map((line, i) => `${String(startLine + i).padStart(5)}| ${line}`).join('\n'), first: startLine, last: startLine + lines.length - 1 };
}

/** Counts of findings by severity, most severe first, for the summary. */
export function severityCounts(findings: Finding[]): string {
  const parts = SEVERITIES.map((severity) => [severity, findings.filter((f) => f.severity === severity).length] as const).filter(([, n]) => n > 0);
  return parts.length === 0 ? 'no findings' : parts.map(([severity, n]) => `${n} ${severity}`).join(', ');
}

/** Activities of code reviews: each item reviewed once, whatever retries and crashes happen. */
export function createReviewJobActivities({ prisma, publisher, backends, catalog, metrics, temporal }: ReviewJobDeps) {
  async function publishProgress(jobId: string, item: { path: string; chunk: number }) {
    const [reviewed, total] = await Promise.all([
      prisma.reviewItem.count({ where: { jobId, status: { not: 'pending' } } }),
      prisma.reviewItem.count({ where: { jobId } }),
    ]);
    publisher.emit(`job:${jobId}`, 'review:progress', { jobId, reviewed, total, path: item.path, chunk: item.chunk });
  }

  return {
    /**
     * Reviews one item on the granted backend. An item that already has its findings (an earlier
     * attempt finished, then its worker died before reporting) is not sent to a model again, and
     * only the first attempt to store findings counts its tokens toward the job.
     */
    async reviewItem(input: ReviewItemInput): Promise<ReviewItemOutcome> {
      const ctx = Context.current();
      // The item's grant is held as a job's is (attempt-lease.ts), keyed by the item: the items are
      // parallel child workflows of one job, and their activity ids are the same. Nothing is read
      // or sent before this attempt holds it.
      const lease = await holdCurrentLease(temporal.activity, input.itemId);
      // Heartbeats on a timer, not per token: through a silent stream they keep Temporal from
      // timing the attempt out, and they bring a cancellation to it.
      const keepAlive = setInterval(() => ctx.heartbeat(), KEEPALIVE_MS);
      try {
        await lease.ready();
        const item = await prisma.reviewItem.findFirst({
          where: { id: input.itemId, jobId: input.jobId },
          select: { path: true, chunk: true, startLine: true, content: true, status: true, findings: true, job: { select: { review: true } } },
        });
        if (!item) throw ApplicationFailure.nonRetryable(`review item ${input.itemId} does not exist`, 'InvalidJob');
        if (item.status === 'done') return { status: 'done', findings: (item.findings as FindingSet | null)?.findings.length ?? 0 };

        const backend = await requireBackend(backends, input.backendId);
        const { entry, concrete } = await requireServed(catalog, input.model, backend);
        const startedAt = new Date();
        const started = await prisma.job.updateMany({
          where: { id: input.jobId, status: 'queued' },
          data: { status: 'running', startedAt, backendId: backend.id, servedModel: concrete },
        });
        if (started.count === 1) {
          const job = await prisma.job.findUniqueOrThrow({ where: { id: input.jobId }, select: { projectId: true, createdAt: true, team: { select: { tier: { select: { name: true } } } } } });
          metrics.jobStarted({ pool: input.pool, tier: job.team.tier.name, createdAt: job.createdAt, startedAt });
          const update = { jobId: input.jobId, projectId: job.projectId, status: 'running' as const };
          publisher.emit(jobUpdateRooms(update), 'job:update', update);
        }

        const isDiff = (item.job.review as ReviewRequest | null)?.source === 'diff';
        const shown = numberedForReview(item.content, item.startLine, isDiff);
        const messages = [
          { role: 'system' as const, content: `${DEPTH_PROMPT[input.depth]} ${REVIEW_FORMAT}` },
          { role: 'user' as const, content: `File: ${item.path} (lines ${shown.first}–${shown.last}${isDiff ? ', a diff numbered by the new file' : ''})\n\n${shown.text}` },
        ];
        // Every request is charged to the review's team in the usage ledger, a cut or repeated one too.
        const charge = (tokens: Pick<UsageEvent, 'servedModel' | 'promptTokens' | 'completionTokens' | 'estimated'>) =>
          chargeRequest({ prisma, metrics }, { key: attemptKey(ctx.info), jobId: input.jobId, kind: 'review', entry, backendId: backend.id, ...tokens });
        let streamed = 0;
        try {
          const signal = AbortSignal.any([ctx.cancellationSignal, lease.signal]);
          const result = await backend.streamChat({ model: concrete, maxTokens: input.outputCap, signal, messages }, () => {
            streamed++;
          });
          await charge({ servedModel: result.model, promptTokens: result.promptTokens, completionTokens: result.completionTokens });
          const set = parseFindings(result.text, shown.first, shown.last);
          const costUsd = catalogCost(entry, result.promptTokens, result.completionTokens);
          await prisma.$transaction(async (tx) => {
            const stored = await tx.reviewItem.updateMany({
              where: { id: input.itemId, status: { not: 'done' } },
              data: {
                status: 'done',
                findings: set as unknown as object,
                answer: set.parsed ? '' : clean(result.text),
                backendId: backend.id,
                servedModel: result.model,
                promptTokens: result.promptTokens,
                completionTokens: result.completionTokens,
                costUsd,
                error: null,
                finishedAt: new Date(),
              },
            });
            if (stored.count === 1) {
              await tx.job.update({
                where: { id: input.jobId },
                data: { promptTokens: { increment: result.promptTokens }, completionTokens: { increment: result.completionTokens }, costUsd: { increment: costUsd } },
              });
            }
          });
          await publishProgress(input.jobId, item);
          return { status: 'done', findings: set.findings.length };
        } catch (error) {
          await chargeFailed(charge, concrete, messages, streamed);
          if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
          if (lease.signal.aborted) throw lease.signal.reason;
          throw toFailure(error, backend.id);
        }
      } finally {
        clearInterval(keepAlive);
        lease.end();
      }
    },

    /** An item the review gives up on (its grants are spent); a retry of the review tries it again. */
    async failReviewItem({ jobId, itemId, error }: { jobId: string; itemId: string; error: string }): Promise<void> {
      const item = await prisma.reviewItem.findFirst({ where: { id: itemId, jobId }, select: { path: true, chunk: true } });
      if (!item) return;
      await prisma.reviewItem.updateMany({ where: { id: itemId, status: 'pending' }, data: { status: 'failed', error, finishedAt: new Date() } });
      await publishProgress(jobId, item);
    },

    /**
     * Ends a review: its totals from its items (a retried review's earlier items included), a
     * summary as its output, and its status — completed when every item has findings, else
     * dead-lettered naming what could not be reviewed. It announces nothing: the workflow calls
     * notifyUser next, as a code-generation job does after saving its result.
     */
    async finishReview(jobId: string): Promise<{ status: 'completed' | 'dead_letter'; summary: string; projectId: string }> {
      const items = await prisma.reviewItem.findMany({
        where: { jobId },
        select: { path: true, status: true, findings: true, error: true, promptTokens: true, completionTokens: true, costUsd: true },
      });
      const findings = items.flatMap((item) => (item.findings as FindingSet | null)?.findings ?? []);
      const failed = items.filter((item) => item.status !== 'done');
      const files = new Set(items.map((item) => item.path)).size;
      const summary =
        `Reviewed ${files} file${files === 1 ? '' : 's'}: ${severityCounts(findings)}.` +
        (failed.length > 0 ? ` ${failed.length} could not be reviewed (${failed[0]!.path}: ${failed[0]!.error ?? 'not reviewed'}).` : '');
      const status = failed.length > 0 ? ('dead_letter' as const) : ('completed' as const);
      const [ended, job] = await prisma.$transaction([
        prisma.job.updateMany({
          where: { id: jobId, status: { not: status } },
          data: {
            status,
            output: summary,
            error: failed.length > 0 ? summary : null,
            promptTokens: items.reduce((sum, item) => sum + item.promptTokens, 0),
            completionTokens: items.reduce((sum, item) => sum + item.completionTokens, 0),
            costUsd: items.reduce((sum, item) => sum + item.costUsd, 0),
            finishedAt: new Date(),
          },
        }),
        prisma.job.findUniqueOrThrow({ where: { id: jobId }, select: { projectId: true, model: true, createdAt: true, finishedAt: true, team: { select: { tier: { select: { name: true } } } } } }),
      ]);
      if (ended.count === 1) metrics.jobEnded({ outcome: status, tier: job.team.tier.name, model: job.model, createdAt: job.createdAt, finishedAt: job.finishedAt ?? job.createdAt });
      // The workflow tells the author, the job's watchers and its webhooks next (notifyUser).
      return { status, summary, projectId: job.projectId };
    },
  };
}
