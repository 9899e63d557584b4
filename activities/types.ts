import type { ChatMessage } from '../server/llm/types';
import type { TierPolicy } from '../workflows/scheduler/core';
import type { ReviewLevel } from './complexity';

/** Data that crosses the workflow/activity boundary; kept plain so histories stay readable. */

export interface PreparedJob {
  jobId: string;
  projectId: string;
  teamId: string;
  userId: string;
  /** The team's tier as it is now; the scheduler takes tier edits from the jobs that bring them. */
  tier: TierPolicy;
  priority: number;
  model: string;
  messages: ChatMessage[];
  requirements: string;
  complexity: number;
  reviewLevel: ReviewLevel;
  expectedTokens: number;
}

export interface GenerateInput {
  jobId: string;
  projectId: string;
  model: string;
  messages: ChatMessage[];
  /** The backend of the job's grant. */
  backendId: string;
}

export interface GenerateOutput {
  text: string;
  model: string;
  backendId: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export interface ReviewInput {
  jobId: string;
  model: string;
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
  status: 'completed';
}

export interface FinishJobInput {
  jobId: string;
  status: 'cancelled' | 'failed' | 'dead_letter';
  error: string | null;
}
