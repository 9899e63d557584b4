import { Capacity } from './scheduler/job-capacity';
import type { ChatOutcome, ChatWorkflowInput } from './definitions';
import { endFailed, generateOnGrant, records } from './job-steps';

/**
 * One chat request from the OpenAI- or Ollama-compatible API: queued and scheduled like any job,
 * generated (streamed, checkpointed, resumed on another backend), stored. None of the web form's
 * extras (review, code extraction): an editor is waiting on it. The answer is the workflow's
 * result, which the web process holding the client's connection awaits.
 */
export async function chatWorkflow({ jobId }: ChatWorkflowInput): Promise<ChatOutcome> {
  const capacity = new Capacity(jobId);
  try {
    const job = await records.prepareChat(jobId);
    const { generated, serviceMs } = await generateOnGrant(
      capacity,
      { teamId: job.teamId, userId: job.userId, tierPolicy: job.tier, model: job.model, priority: job.priority },
      { jobId, projectId: job.projectId, model: job.model, outputCap: job.outputCap, messages: job.messages, sampling: job.sampling },
      () => undefined,
    );
    await capacity.release({ ok: true, serviceMs });
    await records.saveChat({ jobId, projectId: job.projectId, ...generated });
    return { jobId, status: 'completed', ...generated };
  } catch (error) {
    return endFailed(capacity, jobId, error);
  }
}
