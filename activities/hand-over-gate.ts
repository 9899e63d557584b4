import type { Prisma, PrismaClient } from '../server/generated/prisma/client';

/** A held sender looks again this often: the next run lets the messages go as soon as it starts. */
const HELD_RETRY_MS = 50;
/** A signal to a busy server may take long; the gate's row stays share-locked meanwhile. */
const SEND_TIMEOUT_MS = 60_000;
/** A hold waits this long at most for the calls in flight (the scheduler waits 20 s for its hold). */
const HOLD_LOCK_TIMEOUT = '10s';

/**
 * The scheduler's hand-over, shared by every worker process through one row per scheduler
 * workflow. Temporal refuses a continue-as-new while a signal arrives during the workflow task
 * that asks for it, and each refusal costs a replay of the whole run; the jobs of every worker
 * signal the scheduler, so a hold kept in one process's memory leaves the others' signals free to
 * interrupt it.
 *
 * Sending keeps the row share-locked for the length of the call. Holding updates the row, so it
 * waits for every call in flight in any process, and once committed turns every later call away
 * until the next run lets them go (`resume`) or the hold runs out. A process that dies mid-call
 * lets go of its lock with its connection.
 */
export function createHandOverGate(prisma: PrismaClient) {
  return {
    /** Runs `send` (a signal to the scheduler) once no hand-over holds it. */
    async pass(workflowId: string, send: () => Promise<void>): Promise<void> {
      for (;;) {
        const heldForMs = await prisma.$transaction(
          async (tx) => {
            let held = await lockShared(tx, workflowId);
            if (held === null) {
              // A row must exist for a hold to wait on this call.
              await tx.$executeRaw`INSERT INTO "SchedulerHandOver" ("workflowId") VALUES (${workflowId}) ON CONFLICT DO NOTHING`;
              held = await lockShared(tx, workflowId);
            }
            if (held) return held;
            await send();
            return 0;
          },
          { maxWait: SEND_TIMEOUT_MS, timeout: SEND_TIMEOUT_MS },
        );
        if (heldForMs === 0) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(heldForMs, HELD_RETRY_MS)));
      }
    },

    /** Holds every process's messages for `forMs` at most; settles once none is on its way. */
    async hold(workflowId: string, forMs: number): Promise<void> {
      await prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${HOLD_LOCK_TIMEOUT}'`);
        // The clock at the write, not at the transaction's start: the wait for the lock must not eat the hold.
        await tx.$executeRaw`
          INSERT INTO "SchedulerHandOver" ("workflowId", "heldUntil")
          VALUES (${workflowId}, clock_timestamp() + ${forMs} * interval '1 millisecond')
          ON CONFLICT ("workflowId") DO UPDATE SET "heldUntil" = excluded."heldUntil"`;
      });
    },

    /** The scheduler's next run is up: held messages go to it. */
    async resume(workflowId: string): Promise<void> {
      await prisma.schedulerHandOver.updateMany({ where: { workflowId }, data: { heldUntil: null } });
    },
  };
}

export type HandOverGate = ReturnType<typeof createHandOverGate>;

/** Milliseconds the hold still lasts (0: none), or null when the scheduler has no row yet. */
async function lockShared(tx: Prisma.TransactionClient, workflowId: string): Promise<number | null> {
  const rows = await tx.$queryRaw<{ heldForMs: number }[]>`
    SELECT COALESCE(GREATEST(0, CEIL(EXTRACT(EPOCH FROM ("heldUntil" - clock_timestamp())) * 1000)), 0)::int AS "heldForMs"
    FROM "SchedulerHandOver" WHERE "workflowId" = ${workflowId} FOR SHARE`;
  return rows[0]?.heldForMs ?? null;
}
