import { defineQuery } from '@temporalio/workflow';

/** Shared between workflows, activities and the web process; types and definitions only. */

export const JOB_STAGES = ['validating', 'waiting', 'generating', 'reviewing', 'saving', 'done'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

export interface JobWorkflowInput {
  jobId: string;
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
  status: 'completed' | 'cancelled' | 'failed';
  resultId?: string;
}

export const progressQuery = defineQuery<JobProgress>('progress');

export function jobWorkflowId(jobId: string): string {
  return `job-${jobId}`;
}
