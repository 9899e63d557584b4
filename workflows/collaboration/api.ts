import { defineUpdate } from '@temporalio/workflow';

/**
 * A collaboration job's shared definitions: its workflows' inputs and outcomes, the approval
 * update. A step's job id derives from its collaboration's and its part (server/services/
 * collaborations.ts, stepJobId) and its workflow id from its job id as for any job, so the
 * scheduler reaches it like any job and a retried collaboration cannot start twins. Types and
 * definitions only.
 */

export interface CollaborationWorkflowInput {
  jobId: string;
}

/** One step of a collaboration as its workflow runs it: a child job row and its part. */
export interface PlannedStep {
  jobId: string;
  /** "agent-0" … "agent-7", "integration", "review". */
  part: string;
  role: string;
}

/** What the collaboration workflow needs of its job (activities/collaboration.ts, prepareCollaboration). */
export interface CollaborationPlan {
  jobId: string;
  projectId: string;
  agents: PlannedStep[];
  integration: PlannedStep;
  review: PlannedStep;
  failurePolicy: 'retry_other_model' | 'proceed';
  fallbackModel: string | null;
  approval: { timeoutSeconds: number; onTimeout: 'proceed' | 'cancel' } | null;
}

/** Another step's output a step works from (the agents' for the integration, the integration's for the review). */
export interface StepContext {
  role: string;
  text: string;
}

export interface StepWorkflowInput {
  jobId: string;
  context: StepContext[];
  /** Roles of agents whose outputs are missing, for the integration to name. */
  missing: string[];
}

export interface StepOutcome {
  jobId: string;
  text: string;
}

export interface ApprovalDecision {
  userId: string;
  action: 'approve' | 'reject';
  /** Agents' outputs replaced before the integration reads them, by part. */
  edits: { part: string; text: string }[];
}

/** What a collaboration's approval says on its job row (Job.approval), for everyone in the team. */
export interface ApprovalState {
  state: 'waiting' | 'approved' | 'rejected' | 'timed_out';
  /** Who may decide: the job's author and the team's owners when the wait began. */
  approvers: { id: string; name: string }[];
  since: string;
  /** Epoch ms at which the timeout acts, while waiting. */
  deadline: number;
  onTimeout: 'proceed' | 'cancel';
  decidedBy?: { id: string; name: string };
  editedParts?: string[];
}

export type CollaborationOutcome =
  | { jobId: string; status: 'completed'; missing: string[] }
  | { jobId: string; status: 'rejected' | 'timed_out' };

/**
 * Approve (optionally with edited agent outputs) or reject a collaboration waiting for approval.
 * Its validator refuses anyone but the approvers, and any decision when it is not waiting.
 */
export const approvalUpdate = defineUpdate<{ accepted: true }, [ApprovalDecision]>('approval');

export const agentPart = (index: number) => `agent-${index}`;
