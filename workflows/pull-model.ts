import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PullModelInput } from '../activities/types';

// Gigabytes take minutes; the activity heartbeats with every progress object, so a worker lost
// mid-pull is noticed within the heartbeat timeout and the pull resumes (Ollama keeps the parts
// it has). A pull Ollama refused (no such model) is not retried.
const { pullModel } = proxyActivities<Activities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['PullRefused'] },
});

/** An admin's pull of a model onto one Ollama backend (started by server/services/residency.ts). */
export async function pullModelWorkflow(input: PullModelInput): Promise<void> {
  await pullModel(input);
}
