import { defineQuery } from '@temporalio/workflow';

/** Shared between workflows, activities and the web process; types and definitions only. */

export const JOB_STAGES = ['validating', 'waiting', 'generating', 'reviewing', 'saving', 'done'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

export const DEFAULT_REVIEW_TIMEOUT_SECONDS = 120;

export interface JobWorkflowInput {
  jobId: string;
  /** How long the review may take before the job completes without it. */
  reviewTimeoutSeconds?: number;
  /**
   * The web asked the scheduler for this job's slot when it was submitted. Only runs started
   * before `asksByActivity` have it: the scheduler could then grant a slot to a job whose workflow
   * had not run yet, and under a burst that slot idled until the job's first workflow task came.
   */
  enqueued?: boolean;
  /**
   * Ask the scheduler for a slot (and again, backing off) through a local activity in the job's
   * own workflow task, not with a signal from workflow code. Absent in runs started before this
   * existed, which replay the old way.
   */
  asksByActivity?: boolean;
  /**
   * Give the lease back through a local activity that signals the scheduler, not with a signal
   * from workflow code, which costs the job two more history events and a workflow task to learn
   * that it arrived. Absent in runs started before this existed, which replay the old way. An
   * input flag rather than patched(): in this SDK every patch also upserts a search attribute —
   * two more events and a visibility write on every job, forever.
   */
  releaseByActivity?: boolean;
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

export const progressQuery = defineQuery<JobProgress>('progress');

export function jobWorkflowId(jobId: string): string {
  return `job-${jobId}`;
}
