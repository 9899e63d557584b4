import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import { Capacity } from '../../../workflows/scheduler/job-capacity';
import { messagesSignal } from '../../../workflows/scheduler/api';
import type { Grant } from '../../../workflows/scheduler/core';
import { tier } from '../../../workflows/scheduler/core/simulation';

/**
 * A job's side of the scheduler (`Capacity`) on its own, against a stand-in scheduler that only
 * counts what it hears; the test plays the scheduler's grants with the client, as the scheduler's
 * `messageJobs` activity does.
 */

export const heardQuery = defineQuery<{ enqueues: number; dones: number }>('heard');
export const proceedSignal = defineSignal('proceed');

export async function standInScheduler(): Promise<void> {
  const heard = { enqueues: 0, dones: 0 };
  setHandler(heardQuery, () => heard);
  setHandler(messagesSignal, (messages) => {
    for (const message of messages) {
      if ('enqueue' in message) heard.enqueues++;
      else heard.dones++;
    }
  });
  await condition(() => false);
}

/** Acquires, gives the grant back as failed, waits for `proceed`, acquires again: the two grants it took. */
export async function capacityProbe(jobId: string): Promise<Grant[]> {
  let proceed = false;
  setHandler(proceedSignal, () => void (proceed = true));
  const capacity = new Capacity(jobId);
  const request = { teamId: 't', userId: 'u', tierPolicy: tier('probe'), model: 'm', priority: 0 };
  const first = await capacity.acquire(request, []);
  await capacity.release({ ok: false });
  await condition(() => proceed);
  const second = await capacity.acquire(request, [first.backendId]);
  await capacity.release({ ok: true });
  return [first, second];
}
