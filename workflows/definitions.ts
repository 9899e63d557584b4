import { defineQuery } from '@temporalio/workflow';
import type { PreparedReview } from '../activities/types';

/** Shared between workflows, activities and the web process; types and definitions only. */

export const JOB_STAGES = ['validating', 'waiting', 'generating', 'reviewing', 'saving', 'done'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

/**
 * Where each stage starts on a job's progress bar. Generation fills the span up to review by its
 * tokens; the workflow's own view (progressQuery) and what activities push share these.
 */
export const STAGE_PERCENT: Record<JobStage, number> = { validating: 0, waiting: 5, generating: 10, reviewing: 75, saving: 90, done: 100 };

export const DEFAULT_REVIEW_TIMEOUT_SECONDS = 120;

/**
 * The failure type of an activity that could not reach PostgreSQL (server/db/unavailable.ts): the
 * workflow waits and runs the step again, never charging the outage to a backend.
 */
export const DATABASE_UNAVAILABLE = 'DatabaseUnavailable';

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

/** A code review's items: reviewed (failed ones included) of total. */
export interface ReviewProgress {
  reviewed: number;
  total: number;
  failed: number;
}

export interface ReviewOutcome {
  jobId: string;
  /** dead_letter: some items could not be reviewed; the summary names them. */
  status: 'completed' | 'dead_letter';
  summary: string;
}

/** One item of a review, as its child workflow needs it; `itemId` is its key in the scheduler too. */
export type ReviewItemWorkflowInput = Omit<PreparedReview, 'projectId' | 'total' | 'pending'> & { itemId: string };

export const reviewProgressQuery = defineQuery<ReviewProgress>('reviewProgress');

export function jobWorkflowId(jobId: string): string {
  return `job-${jobId}`;
}

/** The job a workflow id belongs to (undefined for the scheduler's and other workflows). */
export function jobIdOfWorkflow(workflowId: string): string | undefined {
  return workflowId.startsWith('job-') ? workflowId.slice('job-'.length) : undefined;
}

/** One webhook delivery (workflows/webhook-delivery.ts). */
export interface WebhookDeliveryInput {
  deliveryId: string;
}

export function webhookDeliveryWorkflowId(deliveryId: string): string {
  return `webhook-${deliveryId}`;
}
