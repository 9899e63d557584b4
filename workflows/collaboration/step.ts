import { Capacity } from '../scheduler/job-capacity';
import { endFailed, generateOnGrant, records } from '../job-steps';
import type { StepOutcome, StepWorkflowInput } from './api';

/**
 * One step of a collaboration (an agent, the integration, the review) as a job of its own: it
 * asks the scheduler for a slot under its author's and team's limits, streams, checkpoints,
 * resumes on another backend, and gives its slot back on every path — the same steps as any
 * job. Its row records how it ended; its text is its result.
 */
export async function collaborationStepWorkflow(input: StepWorkflowInput): Promise<StepOutcome> {
  const capacity = new Capacity(input.jobId);
  try {
    const step = await records.prepareStep(input);
    const { generated, serviceMs } = await generateOnGrant(
      capacity,
      { teamId: step.teamId, userId: step.userId, tierPolicy: step.tier, model: step.model, priority: step.priority },
      { jobId: step.jobId, projectId: step.projectId, model: step.model, outputCap: step.outputCap, messages: step.messages },
      () => undefined,
    );
    await capacity.release({ ok: true, serviceMs });
    await records.saveChat({ jobId: step.jobId, projectId: step.projectId, ...generated });
    return { jobId: step.jobId, text: generated.text };
  } catch (error) {
    return endFailed(capacity, input.jobId, error);
  }
}
