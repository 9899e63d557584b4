import { ApplicationFailure } from '@temporalio/common';
import type { PrismaClient } from '../server/generated/prisma/client';
import type { PackedWaiting } from '../workflows/scheduler/core';
import { WAITING_LIST_MISSING, type WaitingRef } from '../workflows/scheduler/api';

/**
 * Characters of the packed list's JSON per part. The next run reads each part as a local
 * activity's result, recorded in its history as one payload: mostly hex digits, a part deflates to
 * about half (a million characters to 529 KB), under the 512 KB at which Temporal starts warning
 * and far below the 2 MB it refuses.
 */
export const WAITING_PART_CHARS = 900_000;

/**
 * The scheduler's waiting list across continue-as-new, in PostgreSQL. As the one input of the next
 * run it would be a single payload, and Temporal refuses payloads past 2 MB: about 110,000 waiting
 * jobs of a few thousand users, fewer when more users wait. Here it is written in parts under the
 * writing run's id, and the next run reads the parts one local activity each.
 *
 * Only the latest run's list is kept: writing one drops the lists of the scheduler's earlier runs,
 * whose successors have read them into their histories (a replay reads those, not the table).
 * Writing twice for one run (a retried workflow task) replaces the first copy.
 */
export function createCarriedWaiting(prisma: PrismaClient, partChars = WAITING_PART_CHARS) {
  return {
    async store({ workflowId, runId, waiting }: { workflowId: string; runId: string; waiting: PackedWaiting }): Promise<WaitingRef> {
      const text = JSON.stringify(waiting);
      const parts: string[] = [];
      for (let at = 0; at < text.length || parts.length === 0; at += partChars) parts.push(text.slice(at, at + partChars));
      await prisma.$transaction([
        prisma.schedulerWaiting.deleteMany({ where: { workflowId } }),
        prisma.schedulerWaiting.createMany({ data: parts.map((data, part) => ({ workflowId, runId, part, data })) }),
      ]);
      return { runId, parts: parts.length, jobs: waiting.jobProfiles.length };
    },

    async loadPart({ workflowId, runId, part }: { workflowId: string; runId: string; part: number }): Promise<string> {
      const row = await prisma.schedulerWaiting.findUnique({ where: { workflowId_runId_part: { workflowId, runId, part } }, select: { data: true } });
      if (!row) {
        throw ApplicationFailure.nonRetryable(`part ${part} of the waiting list of ${workflowId} run ${runId} is not stored`, WAITING_LIST_MISSING);
      }
      return row.data;
    },
  };
}

export type CarriedWaiting = ReturnType<typeof createCarriedWaiting>;
