import { proxyActivities } from '@temporalio/workflow';
import type { BareActivities } from './activities';

const { chat } = proxyActivities<BareActivities>({ startToCloseTimeout: '1 minute' });

/** The engine alone: one workflow, one activity, nothing of Switchyard's around them. */
export async function bareWorkflow(prompt: string): Promise<string> {
  return await chat(prompt);
}
