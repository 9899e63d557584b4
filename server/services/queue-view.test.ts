import { describe, expect, it } from 'vitest';
import { createSchedulerState, dispatch, enqueue, forecast, queueSnapshot, snapshotForTeams, type QueueSnapshot } from '../../workflows/scheduler/core';
import { ollama, tier } from '../../workflows/scheduler/core/simulation';
import { teamEvent, teamRefs, type JobDetails } from './queue-view';

const T0 = 1_700_000_000_000;

/** Two teams on one slot: t1's j1 runs; j2 (t2), j3 (t1), j4 (t2) wait in that order. */
function snapshot(): QueueSnapshot {
  const state = createSchedulerState({ tiers: [tier('std')], backends: [ollama('o1', 1, ['m1'])], config: { aging: { stepMs: 0, max: 0 } }, now: T0 });
  for (const [i, [jobId, teamId, userId]] of [['j1', 't1', 'u1'], ['j2', 't2', 'u2'], ['j3', 't1', 'u1b'], ['j4', 't2', 'u2']].entries()) {
    const result = enqueue(state, { jobId: jobId!, teamId: teamId!, userId: userId!, tier: 'std', model: 'm1' }, T0 + i);
    if (!result.ok) throw new Error(result.reason);
  }
  dispatch(state, T0 + 10);
  return JSON.parse(JSON.stringify(queueSnapshot(state, forecast(state, T0 + 20), 4))) as QueueSnapshot;
}

const info = (jobId: string) => ({ userName: `author of ${jobId}`, projectId: `p-${jobId}`, projectName: 'P', title: jobId, apiKeyName: null });
const details: JobDetails = new Map(['j1', 'j3', 'j4'].map((jobId) => [jobId, { userId: `user of ${jobId}`, info: info(jobId) }]));

describe('team events from the wire snapshot', () => {
  it('carry each job as the web showed it before: positions, pool positions, times, and the author from the job’s row', () => {
    const event = teamEvent(snapshot(), 't1', details);
    expect(event).toMatchObject({ teamId: 't1', version: 4, at: T0 + 20 });
    expect(event.waiting).toEqual([
      { jobId: 'j3', model: 'm1', pool: 'local', position: 1, poolPosition: 1, etaMs: expect.any(Number), blocked: null, since: T0 + 2, userId: 'user of j3', job: info('j3') },
    ]);
    expect(event.running).toEqual([
      { jobId: 'j1', userId: 'u1', model: 'm1', backendId: 'o1', pool: 'local', since: T0 + 10, starting: false, job: info('j1') },
    ]);
  });

  it('name no author for a job whose row is gone', () => {
    const event = teamEvent(snapshot(), 't2', details);
    expect(event.waiting.map((w) => [w.jobId, w.position, w.userId, w.job?.title ?? null])).toEqual([
      ['j2', 0, '', null],
      ['j4', 2, 'user of j4', 'j4'],
    ]);
  });

  it('never hold another team’s jobs, filtered or not', () => {
    const full = snapshot();
    for (const snap of [full, snapshotForTeams(full, ['t2'])]) {
      expect(teamRefs(snap, ['t2'])).toEqual([{ teamId: 't2', jobId: 'j2' }, { teamId: 't2', jobId: 'j4' }]);
      const event = teamEvent(snap, 't2', details);
      expect([...event.waiting, ...event.running].map((job) => job.jobId).sort()).toEqual(['j2', 'j4']);
    }
    expect(teamEvent(snapshotForTeams(full, ['t2']), 't1', details)).toMatchObject({ waiting: [], running: [] });
  });
});
