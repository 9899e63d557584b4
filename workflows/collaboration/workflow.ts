import {
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  executeChild,
  isCancellation,
  ParentClosePolicy,
  setHandler,
} from '@temporalio/workflow';
import { jobWorkflowId } from '../definitions';
import { describe, records } from '../job-steps';
import {
  approvalUpdate,
  type ApprovalDecision,
  type CollaborationOutcome,
  type CollaborationPlan,
  type CollaborationWorkflowInput,
  type PlannedStep,
  type StepContext,
  type StepWorkflowInput,
} from './api';
import { collaborationStepWorkflow } from './step';

/**
 * A collaboration job (the seed's multi-agent workflow): its agents work in parallel, each a
 * child job; then, if the template asks, it waits — holding no slot — for its author or a team
 * owner to approve (maybe editing outputs) or reject; then the integration combines the outputs
 * and the review reads the integration, each a child job too. A failed step is retried once on
 * the fallback model or left out, as the template says. Cancelling it cancels every step, each
 * keeping what it wrote.
 */
export async function collaborationWorkflow({ jobId }: CollaborationWorkflowInput): Promise<CollaborationOutcome> {
  let plan: CollaborationPlan | null = null;
  let integrated = '';
  try {
    plan = await records.prepareCollaboration(jobId);
    const settled = await Promise.allSettled(plan.agents.map((step) => runStep(plan!, step, { context: [], missing: [] })));
    // Every step has ended (cancelled ones too, their rows recorded) before the run goes on or ends.
    const refused = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (refused) throw refused.reason;
    const outputs = new Map(plan.agents.map((step, i) => [step.part, (settled[i] as PromiseFulfilledResult<string | null>).value]));
    if ([...outputs.values()].every((text) => text === null)) {
      throw ApplicationFailure.nonRetryable('No agent produced an output.', 'StepFailed');
    }

    if (plan.approval) {
      const verdict = await awaitApproval(plan, outputs);
      if (verdict === 'rejected' || verdict === 'timed_out') {
        await records.closeCollaboration({ jobId, status: 'cancelled', output: '', error: verdict === 'rejected' ? 'Rejected at the approval step.' : 'Nobody approved in time.' });
        return { jobId, status: verdict };
      }
    }

    const context: StepContext[] = [];
    const missing: string[] = [];
    for (const step of plan.agents) {
      const text = outputs.get(step.part);
      if (text === null || text === undefined) missing.push(step.role);
      else context.push({ role: step.role, text });
    }
    const integration = await runStep(plan, plan.integration, { context, missing });
    if (integration === null) throw ApplicationFailure.nonRetryable('The integration failed.', 'StepFailed');
    integrated = integration;
    // A review that fails leaves the integration standing: the run completes without it.
    await runStep(plan, plan.review, { context: [{ role: plan.integration.role, text: integration }], missing: [] });

    await records.closeCollaboration({ jobId, status: 'completed', output: integrated, error: null });
    return { jobId, status: 'completed', missing };
  } catch (error) {
    const status = isCancellation(error) ? 'cancelled' : error instanceof ApplicationFailure && error.type === 'StepFailed' ? 'dead_letter' : 'failed';
    // The workflow may itself be cancelled; recording the outcome must still happen.
    await CancellationScope.nonCancellable(() =>
      records.closeCollaboration({ jobId, status, output: integrated, error: status === 'cancelled' ? null : describe(error) }),
    );
    throw error;
  }
}

/**
 * Runs one step as a child job; on failure, once more on the fallback model or not at all, as
 * the template says. Null: the step produced nothing and the run goes on without it.
 */
async function runStep(plan: CollaborationPlan, step: PlannedStep, input: Omit<StepWorkflowInput, 'jobId'>): Promise<string | null> {
  const run = async (job: PlannedStep) =>
    (
      await executeChild(collaborationStepWorkflow, {
        workflowId: jobWorkflowId(job.jobId),
        args: [{ jobId: job.jobId, ...input }],
        // Cancelling waits for the step to record its end and give its slot back; a collaboration
        // terminated outright still has its steps cancelled rather than left running.
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      })
    ).text;
  try {
    return await run(step);
  } catch (error) {
    if (isCancellation(error)) throw error;
    if (plan.failurePolicy === 'retry_other_model' && plan.fallbackModel) {
      const fallback = await records.retryStepOn({ step, model: plan.fallbackModel });
      try {
        return await run(fallback);
      } catch (again) {
        if (isCancellation(again)) throw again;
        throw ApplicationFailure.nonRetryable(`The ${step.role} failed, and again on ${plan.fallbackModel}: ${describe(again)}`, 'StepFailed');
      }
    }
    return null;
  }
}

/**
 * Waits for a decision on the agents' outputs, or for the template's timeout. The wait holds no
 * slot: every agent has given its slot back. Edits replace outputs in `outputs`.
 */
async function awaitApproval(plan: CollaborationPlan, outputs: Map<string, string | null>): Promise<'approved' | 'rejected' | 'timed_out'> {
  const { timeoutSeconds, onTimeout } = plan.approval!;
  let approvers: string[] = [];
  let waiting = false;
  let decision: ApprovalDecision | null = null;
  setHandler(
    approvalUpdate,
    (decided) => {
      decision = decided;
      waiting = false;
      return { accepted: true };
    },
    {
      validator: ({ userId, action, edits }) => {
        if (!waiting) throw new Error('The collaboration is not waiting for approval.');
        if (!approvers.includes(userId)) throw new Error('Only the job’s author or a team owner can decide.');
        if (action === 'reject' && edits.length > 0) throw new Error('A rejection carries no edits.');
        for (const edit of edits) {
          if (typeof outputs.get(edit.part) !== 'string') throw new Error(`There is no agent output ${edit.part} to edit.`);
        }
      },
    },
  );
  approvers = await records.awaitApproval({ jobId: plan.jobId, timeoutSeconds, onTimeout });
  waiting = true;
  const decided = await condition(() => decision !== null, timeoutSeconds * 1000);
  waiting = false;
  if (!decided) {
    await records.recordApproval({ jobId: plan.jobId, outcome: 'timed_out', decision: null });
    return onTimeout === 'proceed' ? 'approved' : 'timed_out';
  }
  const made = decision as unknown as ApprovalDecision;
  const outcome = made.action === 'approve' ? 'approved' : 'rejected';
  await records.recordApproval({ jobId: plan.jobId, outcome, decision: made });
  for (const edit of outcome === 'approved' ? made.edits : []) outputs.set(edit.part, edit.text);
  return outcome;
}
