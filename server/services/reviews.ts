import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { NotFoundError } from '../errors';
import type { SessionUser } from '../auth/session';
import { SEVERITIES, type FindingSet, type Severity } from './review-findings';
import type { ReviewRequest } from './review-input';

/**
 * Reads of a code review's items for its page: the list of files with their state and counts,
 * then one file's chunks with their findings when it is opened. A job of another team is not
 * found, whoever asks.
 */

const itemSummarySelect = { path: true, chunk: true, status: true, findings: true, error: true } satisfies Prisma.ReviewItemSelect;

const itemDetailSelect = {
  chunk: true,
  startLine: true,
  content: true,
  status: true,
  findings: true,
  answer: true,
  error: true,
  servedModel: true,
  promptTokens: true,
  completionTokens: true,
  costUsd: true,
} satisfies Prisma.ReviewItemSelect;

export type SeverityCounts = Record<Severity, number>;

const findingsOf = (json: Prisma.JsonValue | null): FindingSet | null => json as unknown as FindingSet | null;

export function createReviewService(prisma: PrismaClient) {
  const visibleReview = (userId: string, jobId: string) =>
    ({ id: jobId, kind: 'code_review', team: { memberships: { some: { userId } } } }) satisfies Prisma.JobWhereInput;

  async function requireReview(user: SessionUser, jobId: string) {
    const job = await prisma.job.findFirst({ where: visibleReview(user.id, jobId), select: { id: true, review: true } });
    if (!job) throw new NotFoundError('review');
    return { id: job.id, request: job.review as unknown as ReviewRequest };
  }

  return {
    /** The review's files in path order: reviewed or not, findings by severity. */
    async files(user: SessionUser, jobId: string) {
      const { request } = await requireReview(user, jobId);
      const items = await prisma.reviewItem.findMany({ where: { jobId }, select: itemSummarySelect, orderBy: [{ path: 'asc' }, { chunk: 'asc' }] });
      const files = new Map<string, { path: string; chunks: number; reviewed: number; failed: number; counts: SeverityCounts }>();
      for (const item of items) {
        let file = files.get(item.path);
        if (!file) {
          file = { path: item.path, chunks: 0, reviewed: 0, failed: 0, counts: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as SeverityCounts };
          files.set(item.path, file);
        }
        file.chunks++;
        if (item.status !== 'pending') file.reviewed++;
        if (item.status === 'failed') file.failed++;
        for (const finding of findingsOf(item.findings)?.findings ?? []) file.counts[finding.severity]++;
      }
      return { source: request.source, depth: request.depth, reviewed: items.filter((i) => i.status !== 'pending').length, total: items.length, files: [...files.values()] };
    },

    /** One file of the review: its chunks' lines and findings. */
    async file(user: SessionUser, jobId: string, path: string) {
      const { request } = await requireReview(user, jobId);
      const chunks = await prisma.reviewItem.findMany({ where: { jobId, path }, select: itemDetailSelect, orderBy: { chunk: 'asc' } });
      if (chunks.length === 0) throw new NotFoundError('file');
      return { path, source: request.source, chunks: chunks.map((chunk) => ({ ...chunk, findings: findingsOf(chunk.findings) })) };
    },
  };
}

export type ReviewService = ReturnType<typeof createReviewService>;
