import { describe, expect, it } from 'vitest';
import { othersText, placeText, queueRows, waitProgress, type OwnWaitingJob } from './queue-rows';

const job = (jobId: string, poolPosition: number): OwnWaitingJob => ({
  jobId,
  userId: 'u',
  model: 'm',
  pool: 'local',
  position: poolPosition,
  poolPosition,
  etaMs: 1_000,
  blocked: null,
  since: 0,
  job: null,
});

const shape = (rows: ReturnType<typeof queueRows>) => rows.map((r) => (r.kind === 'job' ? r.job.jobId : `${r.where}:${r.count}`));

describe('queueRows', () => {
  it('shows the other teams’ jobs as counts in the gaps between the viewer’s positions', () => {
    expect(shape(queueRows([job('b', 6), job('a', 2)], 9))).toEqual(['ahead:2', 'a', 'between:3', 'b', 'behind:2']);
  });

  it('has no empty groups when the viewer’s jobs are adjacent, first or last', () => {
    expect(shape(queueRows([job('a', 0), job('b', 1)], 2))).toEqual(['a', 'b']);
  });

  it('is one group when the viewer has nothing waiting, and nothing for an empty pool', () => {
    expect(shape(queueRows([], 4))).toEqual(['only:4']);
    expect(queueRows([], 0)).toEqual([]);
  });

  it('never counts negative when the pool total lags the team list', () => {
    expect(shape(queueRows([job('a', 3)], 2))).toEqual(['ahead:3', 'a']);
  });
});

describe('texts', () => {
  it('says how many and where', () => {
    expect(othersText({ kind: 'others', count: 1, where: 'ahead' })).toBe('1 job from other teams ahead');
    expect(othersText({ kind: 'others', count: 3, where: 'only' })).toBe('3 jobs from other teams waiting');
    expect(placeText({ position: 0, etaMs: 4_000, blocked: null, model: 'm' })).toBe('Next in line · starts in about 4 s.');
    expect(placeText({ position: 2, etaMs: 300_000, blocked: null, model: 'm' })).toBe('2 jobs ahead · starts in about 5 min.');
  });

  it('says in words why a job cannot start', () => {
    expect(placeText({ position: 0, etaMs: null, blocked: 'no-backend-for-model', model: 'tiny-stop' })).toBe(
      'Blocked: no backend this job’s tier can use serves tiny-stop any more. It starts if an admin adds one; or cancel it.',
    );
    expect(placeText({ position: 3, etaMs: null, blocked: 'backends-down', model: 'qwen2.5-coder:7b' })).toMatch(/^Waiting: every backend that serves qwen2\.5-coder:7b is down/);
  });

  it('measures wait progress from the time waited and the time expected', () => {
    expect(waitProgress({ since: 0, etaMs: 3_000 }, 1_000)).toBe(0.25);
    expect(waitProgress({ since: 0, etaMs: null }, 1_000)).toBeNull();
  });
});
