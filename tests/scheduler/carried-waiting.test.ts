import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCarriedWaiting } from '../../activities/carried-waiting';
import { createPrisma } from '../../server/db/client';
import { WAITING_LIST_MISSING } from '../../workflows/scheduler/api';
import { createSchedulerState, packWaiting, unpackWaiting } from '../../workflows/scheduler/core';
import { fill, ollama, tier } from '../../workflows/scheduler/core/simulation';
import { useTestDatabase } from '../support/db';

/** The scheduler's waiting list across continue-as-new, stored in PostgreSQL in parts. */

const db = useTestDatabase();
let prisma: ReturnType<typeof createPrisma>;
beforeAll(() => {
  prisma = createPrisma(db.url);
});
afterAll(() => prisma.$disconnect());

const T0 = 1_700_000_000_000;
function waitingList(jobs: number) {
  const state = createSchedulerState({ tiers: [tier('gold'), tier('std')], backends: [ollama('o1', 2, ['qwen2.5-coder:7b'])], now: T0 });
  fill(state, jobs, 3, T0, ['qwen2.5-coder:7b']);
  return state.waiting;
}

describe('the carried waiting list', () => {
  it('comes back whole from parts each below the size it was cut to', async () => {
    const carried = createCarriedWaiting(prisma, 1_000);
    const waiting = waitingList(200);
    const packed = packWaiting(waiting);

    const ref = await carried.store({ workflowId: 'scheduler-a', runId: 'run-1', waiting: packed });
    const text = JSON.stringify(packed);
    expect(ref).toEqual({ runId: 'run-1', parts: Math.ceil(text.length / 1_000), jobs: 200 });
    expect(ref.parts).toBeGreaterThan(2);

    const parts: string[] = [];
    for (let part = 0; part < ref.parts; part++) parts.push(await carried.loadPart({ workflowId: 'scheduler-a', runId: 'run-1', part }));
    expect(parts.every((part) => part.length <= 1_000)).toBe(true);
    expect(unpackWaiting(JSON.parse(parts.join('')))).toEqual(waiting);
  });

  it('stores an empty list as one part', async () => {
    const carried = createCarriedWaiting(prisma);
    const ref = await carried.store({ workflowId: 'scheduler-empty', runId: 'run-1', waiting: packWaiting([]) });
    expect(ref).toEqual({ runId: 'run-1', parts: 1, jobs: 0 });
    expect(unpackWaiting(JSON.parse(await carried.loadPart({ workflowId: 'scheduler-empty', runId: 'run-1', part: 0 })))).toEqual([]);
  });

  it("keeps only the latest run's list of a scheduler, and a run that writes again replaces its copy", async () => {
    const carried = createCarriedWaiting(prisma, 500);
    await carried.store({ workflowId: 'scheduler-b', runId: 'run-1', waiting: packWaiting(waitingList(50)) });
    await carried.store({ workflowId: 'other-scheduler', runId: 'run-1', waiting: packWaiting(waitingList(5)) });
    await carried.store({ workflowId: 'scheduler-b', runId: 'run-2', waiting: packWaiting(waitingList(40)) });
    const second = await carried.store({ workflowId: 'scheduler-b', runId: 'run-2', waiting: packWaiting(waitingList(10)) });

    const rows = await prisma.schedulerWaiting.findMany({ where: { workflowId: 'scheduler-b' }, select: { runId: true, part: true } });
    expect(rows.map((row) => row.runId)).toEqual(Array.from({ length: second.parts }, () => 'run-2'));
    expect(await prisma.schedulerWaiting.count({ where: { workflowId: 'other-scheduler' } })).toBeGreaterThan(0);
    let text = '';
    for (let part = 0; part < second.parts; part++) text += await carried.loadPart({ workflowId: 'scheduler-b', runId: 'run-2', part });
    expect(unpackWaiting(JSON.parse(text))).toHaveLength(10);
  });

  it('tells a run whose list is not stored so, as a failure not worth retrying', async () => {
    const carried = createCarriedWaiting(prisma);
    const failure = await carried.loadPart({ workflowId: 'scheduler-c', runId: 'run-9', part: 0 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: WAITING_LIST_MISSING, nonRetryable: true });
  });
});
