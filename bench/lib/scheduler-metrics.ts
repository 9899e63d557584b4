/**
 * The figures of `bench:scheduler`, as pure functions of what the run recorded: the backends'
 * request logs (when each request arrived, got a slot and ended) and the jobs' start and finish
 * times. Times are epoch milliseconds.
 */

export interface SlotUse {
  /** Which backend instance served it. */
  instance: number;
  arrivedAt: number;
  /** null: never got a slot (refused). */
  slotAt: number | null;
  endedAt: number;
}

/** Busy slot-time over available slot-time in [from, to]. */
export function utilization(requests: readonly SlotUse[], totalSlots: number, from: number, to: number): number {
  if (to <= from) return Number.NaN;
  let busy = 0;
  for (const r of requests) {
    if (r.slotAt === null) continue;
    busy += Math.max(0, Math.min(r.endedAt, to) - Math.max(r.slotAt, from));
  }
  return busy / (totalSlots * (to - from));
}

/**
 * Dispatch gap: from a slot's release (a request ending) to the next request reaching that
 * backend for the freed slot. Replays each instance's requests in time order; a request that gets
 * a slot takes the one released earliest (the k-th release on a backend is answered by the k-th
 * dispatch to it). Gaps are returned for requests `measured` accepts whose slot was released by a
 * request `countsAsRelease` accepts — so slots free from the start, or freed by set-up work, are
 * not counted as gaps. A request that arrived before the release (it waited in the backend's own
 * queue) has a gap of 0.
 */
export function dispatchGaps(
  requests: readonly SlotUse[],
  slotsPerInstance: number,
  measured: (r: SlotUse) => boolean,
  countsAsRelease: (r: SlotUse) => boolean,
): number[] {
  const gaps: number[] = [];
  const byInstance = new Map<number, SlotUse[]>();
  for (const r of requests) {
    if (r.slotAt === null) continue;
    const list = byInstance.get(r.instance) ?? [];
    list.push(r);
    byInstance.set(r.instance, list);
  }
  for (const list of byInstance.values()) {
    // Ends before starts at the same instant: a slot freed and taken in one millisecond was free.
    const events = [
      ...list.map((r) => ({ at: r.endedAt, end: true, r })),
      ...list.map((r) => ({ at: r.slotAt!, end: false, r })),
    ].sort((a, b) => a.at - b.at || Number(b.end) - Number(a.end));
    const free: Array<SlotUse | null> = Array.from({ length: slotsPerInstance }, () => null);
    for (const { end, r } of events) {
      if (end) {
        free.push(r);
        continue;
      }
      const released = free.shift();
      if (released && countsAsRelease(released) && measured(r)) gaps.push(Math.max(0, r.arrivedAt - released.endedAt));
    }
  }
  return gaps;
}

/** Jain's fairness index: 1 when all equal, 1/n when one gets everything. */
export function jainIndex(values: readonly number[]): number {
  const sum = values.reduce((a, b) => a + b, 0);
  const squares = values.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (values.length * squares);
}

/**
 * Weighted share error: the total variation distance between the shares of service the groups
 * got and the shares their weights entitle them to, ½ Σ |observed − entitled|. 0 is exact; the
 * value is the fraction of all service that went to the wrong group.
 */
export function weightedShareError(groups: readonly { service: number; weight: number }[]): number {
  const service = groups.reduce((a, g) => a + g.service, 0);
  const weight = groups.reduce((a, g) => a + g.weight, 0);
  return groups.reduce((a, g) => a + Math.abs(g.service / service - g.weight / weight), 0) / 2;
}

/** Service a job gave in [from, to]: the overlap of its run with the window. */
export function serviceIn(run: { startedAt: number; finishedAt: number }, from: number, to: number): number {
  return Math.max(0, Math.min(run.finishedAt, to) - Math.max(run.startedAt, from));
}

export interface OrderAccuracy {
  /**
   * Jobs in order: every job predicted ahead of it started no later, and every job predicted
   * behind it no earlier. One job that jumps the queue puts itself and each job it passed out of
   * order, so this is the strict measure.
   */
  jobsInOrder: number;
  /** Of all pairs of jobs, the fraction that started in their predicted order (Kendall's concordance). */
  pairsInOrder: number;
  /** Mean |actual start rank − predicted position|. */
  meanDisplacement: number;
}

/** `startTimes[p]`: when the job predicted at position p started. */
export function orderAccuracy(startTimes: readonly number[]): OrderAccuracy {
  const n = startTimes.length;
  if (n === 0) return { jobsInOrder: Number.NaN, pairsInOrder: Number.NaN, meanDisplacement: Number.NaN };
  const suffixMin = new Array<number>(n + 1).fill(Number.POSITIVE_INFINITY);
  for (let i = n - 1; i >= 0; i--) suffixMin[i] = Math.min(suffixMin[i + 1]!, startTimes[i]!);
  let prefixMax = Number.NEGATIVE_INFINITY;
  let inOrder = 0;
  for (let i = 0; i < n; i++) {
    const t = startTimes[i]!;
    if (prefixMax <= t && t <= suffixMin[i + 1]!) inOrder++;
    prefixMax = Math.max(prefixMax, t);
  }
  let concordant = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (startTimes[i]! <= startTimes[j]!) concordant++;
  const rank = startTimes.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i);
  const displacement = rank.reduce((sum, { i }, actual) => sum + Math.abs(actual - i), 0);
  return {
    jobsInOrder: inOrder / n,
    pairsInOrder: n > 1 ? concordant / ((n * (n - 1)) / 2) : 1,
    meanDisplacement: displacement / n,
  };
}
