import { defineQuery } from '@temporalio/workflow';

/** Shared between workflows, activities and the web process; types and definitions only. */

export const JOB_STAGES = ['validating', 'waiting', 'generating', 'reviewing', 'saving', 'done'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

export const DEFAULT_REVIEW_TIMEOUT_SECONDS = 120;

export interface JobWorkflowInput {
  jobId: string;
  /** How long the review may take before the job completes without it. */
  reviewTimeoutSeconds?: number;
}

export interface StageTiming {
  startedAt: number;
  endedAt?: number;
}

export interface JobProgress {
  stage: JobStage;
  percent: number;
  tokens: number;
  activity: string | null;
  timings: Partial<Record<JobStage, StageTiming>>;
}

export interface JobOutcome {
  jobId: string;
  status: 'completed';
  resultId?: string;
}

export interface ChatWorkflowInput {
  jobId: string;
}

/** A chat job's answer, as the API returns it. */
export interface ChatOutcome {
  jobId: string;
  status: 'completed';
  text: string;
  servedModel: string;
  promptTokens: number;
  completionTokens: number;
  /** Stopped by the token limit, not by the model. */
  truncated: boolean;
}

export const progressQuery = defineQuery<JobProgress>('progress');

export function jobWorkflowId(jobId: string): string {
  return `job-${jobId}`;
}
