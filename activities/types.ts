import type { ChatMessage } from '../server/llm/types';
import type { TierPolicy } from '../workflows/scheduler/core';
import type { ReviewLevel } from './complexity';
import type { ReviewDepth } from '../server/services/review-input';

/** Data that crosses the workflow/activity boundary; kept plain so histories stay readable. */

export interface PreparedJob {
  jobId: string;
  projectId: string;
  teamId: string;
  userId: string;
  /** The team's tier as it is now; the scheduler takes tier edits from the jobs that bring them. */
  tier: TierPolicy;
  priority: number;
  /** Review items and generation marked simple: the scheduler may batch them (when the tier batches). */
  batchable: boolean;
  /** The catalogue name; each backend kind serves it as its own concrete model. */
  model: string;
  /** Completion tokens the job may produce: the catalogue entry's cap, lowered by the tier's. */
  outputCap: number;
  messages: ChatMessage[];
  requirements: string;
  complexity: number;
  reviewLevel: ReviewLevel;
  expectedTokens: number;
}

export interface GenerateInput {
  jobId: string;
  projectId: string;
  /** The catalogue name. */
  model: string;
  /** Completion tokens for the whole answer, across attempts. */
  outputCap: number;
  messages: ChatMessage[];
  /** The backend of the job's grant, its pool, and when the scheduler made the grant (its clock, epoch ms). */
  backendId: string;
  pool: string;
  grantedAt: number;
  /** How long the job waited for this grant (the scheduler's count), for its trace. */
  waitedMs: number;
  /** An API request's sampling options (chat jobs). */
  sampling?: Sampling;
}

export interface Sampling {
  temperature?: number;
  stop?: string[];
}

export interface GenerateOutput {
  text: string;
  /** The concrete model that answered, as the backend named it. */
  servedModel: string;
  backendId: string;
  promptTokens: number;
  /** Across every attempt, resumed ones included. */
  completionTokens: number;
  costUsd: number;
  /** The answer stopped at the output cap (or the model's context), not where the model ended it. */
  truncated: boolean;
}

/** A chat job as its workflow needs it (see workflows/chat.ts). */
export interface PreparedChat {
  jobId: string;
  projectId: string;
  teamId: string;
  userId: string;
  tier: TierPolicy;
  priority: number;
  model: string;
  /** The request's max tokens, lowered to the catalogue entry's and the tier's caps. */
  outputCap: number;
  messages: ChatMessage[];
  sampling: Sampling;
}

export type SaveChatInput = GenerateOutput & { jobId: string; projectId: string };

export interface ReviewInput {
  jobId: string;
  /** The catalogue name. */
  model: string;
  outputCap: number;
  backendId: string;
  level: ReviewLevel;
  requirements: string;
  /** The model's whole answer; the review reads its code. */
  text: string;
}

export interface ReviewOutcome {
  status: 'passed' | 'issues' | 'timed_out' | 'skipped';
  notes: string[];
}

export type SaveResultInput = GenerateOutput & { jobId: string; review: ReviewOutcome };

export interface NotifyInput {
  jobId: string;
  projectId: string;
  /** A review that could not review every file ends dead-lettered here (finishReview). */
  status: 'completed' | 'dead_letter';
}

export interface FinishJobInput {
  jobId: string;
  status: 'cancelled' | 'failed' | 'dead_letter';
  error: string | null;
}

export interface PullModelInput {
  backendId: string;
  /** The concrete Ollama model, e.g. "qwen2.5-coder:7b". */
  model: string;
}

/** A code review as its workflow needs it (see workflows/code-review.ts). */
export type PreparedReview = Pick<PreparedJob, 'jobId' | 'projectId' | 'teamId' | 'userId' | 'tier' | 'priority' | 'batchable' | 'model' | 'outputCap'> & {
  depth: ReviewDepth;
  total: number;
  /** Items still to review: a retried review skips those it already has findings for. */
  pending: { id: string; path: string; chunk: number }[];
};

export interface ReviewItemInput {
  jobId: string;
  itemId: string;
  /** The catalogue name. */
  model: string;
  outputCap: number;
  depth: ReviewDepth;
  backendId: string;
  pool: string;
}

export interface ReviewItemOutcome {
  status: 'done' | 'failed';
  findings: number;
}
