import type { PrismaClient } from '../../server/generated/prisma/client';
import type { Simulator } from '../../simulator';
import { until } from './until';

export interface SlotHolder {
  jobId: string;
  /** Cancels the holder: its slot frees at once. */
  release(): Promise<void>;
}

/**
 * Starts a job that holds one of `sim`'s slots for as long as a test needs: it would stream for
 * half an hour, and `release()` cancels it. What queues meanwhile waits behind it however slow
 * the machine, and the test never waits out a slow answer.
 */
export async function holdSlot(options: {
  sim: Simulator;
  /** The simulator's own pace, back in force for every request after the holder's. */
  pace: { tokensPerSecond: number; outputTokens: number };
  submit: () => Promise<{ id: string }>;
  cancel: (jobId: string) => Promise<unknown>;
  prisma: PrismaClient;
}): Promise<SlotHolder> {
  const { sim, pace, prisma } = options;
  // The simulator fixes a request's pace and length when the request starts generating: once the
  // holder has streamed a token, its pace is set and the simulator's may change back.
  sim.configure({ tokensPerSecond: 1, outputTokens: 2_000 });
  try {
    const { id } = await options.submit();
    await until(async () => (await prisma.job.findUniqueOrThrow({ where: { id }, select: { output: true } })).output.length > 0, 'the slot holder to stream');
    return { jobId: id, release: async () => void (await options.cancel(id)) };
  } finally {
    sim.configure(pace);
  }
}
