import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PrismaClient } from '../server/generated/prisma/client';
import type { JobMetrics } from '../server/metrics/jobs';
import type { CatalogLookup } from '../server/services/catalog-lookup';
import { attemptKey, type UsageEvent } from '../server/services/usage-ledger';
import { extractCode } from './extract-code';
import { holdCurrentLease, type LeaseClient } from './attempt-lease';
import { chargeFailed, chargeRequest, KEEPALIVE_MS, requireBackend, requireServed, type BackendRegistry } from './generate';
import type { Progress } from './progress';
import type { ReviewInput, ReviewOutcome } from './types';

const REVIEW_PROMPT: Record<'standard' | 'thorough', string> = {
  standard:
    'Review the code below against the requirements. List each real problem as a line starting with "- ". ' +
    'If there is none, answer exactly "No issues found."',
  thorough:
    'Review the code below against the requirements as a senior engineer: correctness, edge cases, security, ' +
    'performance and readability. List each problem as a line starting with "- ". If there is none, answer exactly ' +
    '"No issues found."',
};

/**
 * Turns a reviewer's answer into notes: its bullet items, each with the lines indented under it
 * (a suggested fix in a fenced block belongs to its item), or the whole answer when it has none.
 * Notes are Markdown; the page renders them (app/components/Markdown.tsx).
 */
export function parseReview(text: string): ReviewOutcome {
  if (/no issues found/i.test(text)) return { status: 'passed', notes: [] };
  const items: string[][] = [];
  let current: string[] | null = null;
  let fenced = false;
  for (const line of text.split('\n')) {
    const bullet = fenced ? null : /^\s{0,1}[-*]\s+(.*\S)/.exec(line);
    if (bullet) {
      current = [bullet[1]!];
      items.push(current);
    } else if (current && (fenced || /^\s/.test(line) || !line.trim())) {
      current.push(line.replace(/^ {1,2}/, ''));
    } else {
      current = null;
    }
    if (current && /^\s*(```|~~~)/.test(line)) fenced = !fenced;
  }
  const bullets = items.map((lines) => lines.join('\n').trim());
  const notes = bullets.length > 0 ? bullets : [text.trim()].filter(Boolean);
  return notes.length === 0 ? { status: 'passed', notes } : { status: 'issues', notes };
}

interface ReviewDeps {
  prisma: PrismaClient;
  backends: BackendRegistry;
  catalog: CatalogLookup;
  metrics: JobMetrics;
  progress: Progress;
  /** Heartbeats whose answers an attempt awaits, to know it still holds its grant (attempt-lease.ts). */
  temporal: { activity: LeaseClient };
}

/**
 * The review runs on the generation's backend, as the same catalogue model, under the same cap, and
 * is charged to the job like its generation: also when it fails or is abandoned at its timeout.
 */
export function createReviewActivities({ prisma, backends, catalog, metrics, progress, temporal }: ReviewDeps) {
  return {
    async reviewCode(input: ReviewInput): Promise<ReviewOutcome> {
      if (input.level === 'none') throw ApplicationFailure.nonRetryable('review level none has no review', 'InvalidJob');
      const ctx = Context.current();
      progress.stage(input.jobId, 'reviewing', 'reviewCode');
      const backend = await requireBackend(backends, input.backendId);
      const { entry, concrete } = await requireServed(catalog, input.model, backend);
      const charge = (tokens: Pick<UsageEvent, 'servedModel' | 'promptTokens' | 'completionTokens' | 'estimated'>) =>
        chargeRequest({ prisma, metrics }, { key: attemptKey(ctx.info), jobId: input.jobId, kind: 'review', entry, backendId: backend.id, ...tokens });
      const messages = [
        { role: 'system' as const, content: REVIEW_PROMPT[input.level] },
        { role: 'user' as const, content: `Requirements:\n${input.requirements}\n\nCode:\n${extractCode(input.text).code}` },
      ];
      // The review runs on the generation's grant: it holds the lease as the generation did, so that
      // a retry of it never reaches the backend while this attempt's request is still open.
      const lease = await holdCurrentLease(temporal.activity, input.jobId);
      // Heartbeats on a timer, not per token: through a silent stream (a hung backend) they keep
      // Temporal from timing the attempt out, and they bring the review's timeout to it.
      const keepAlive = setInterval(() => ctx.heartbeat(), KEEPALIVE_MS);
      try {
        await lease.ready();
        let streamed = 0;
        try {
          const signal = AbortSignal.any([ctx.cancellationSignal, lease.signal]);
          const result = await backend.streamChat({ model: concrete, maxTokens: input.outputCap, signal, messages }, () => streamed++);
          await charge({ servedModel: result.model, promptTokens: result.promptTokens, completionTokens: result.completionTokens });
          return parseReview(result.text);
        } catch (error) {
          await chargeFailed(charge, concrete, messages, streamed);
          throw lease.signal.aborted && !ctx.cancellationSignal.aborted ? lease.signal.reason : error;
        }
      } finally {
        clearInterval(keepAlive);
        lease.end();
      }
    },
  };
}
