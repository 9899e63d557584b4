import { describe, expect, it } from 'vitest';
import { burst, steady } from './arrivals';
import { summarizeOutcomes } from './outcomes';
import { lineChart } from './svg';

describe('bench suite: outcomes', () => {
  it('give the completion rate, errors by kind, percentiles of completed jobs and throughput', () => {
    const outcomes = [
      ...Array.from({ length: 8 }, (_, i) => ({ arrivedAt: 0, finishedAt: 1_000 * (i + 1) })),
      { arrivedAt: 0, finishedAt: 5, error: '503 queue full' },
      { arrivedAt: 0, finishedAt: 9_000, error: 'timeout (scenario cap)' },
    ];
    expect(summarizeOutcomes(outcomes)).toEqual({
      users: 10,
      completed: 8,
      completionRate: 0.8,
      errors: { '503 queue full': 1, 'timeout (scenario cap)': 1 },
      p50Ms: 4_000,
      p95Ms: 8_000,
      p99Ms: 8_000,
      throughputPerSecond: 1,
      durationMs: 9_000,
    });
  });

  it('have no percentiles when nothing completed', () => {
    expect(summarizeOutcomes([{ arrivedAt: 0, finishedAt: 1, error: 'connection refused' }])).toMatchObject({
      completionRate: 0,
      p95Ms: null,
      throughputPerSecond: 0,
    });
  });
});

describe('bench suite: arrivals', () => {
  it('are all at once for a burst and evenly spaced for a steady stream', () => {
    expect(burst(3)).toEqual([0, 0, 0]);
    expect(steady(4, 1)).toEqual([0, 250, 500, 750]);
  });
});

describe('bench suite: SVG charts', () => {
  it('draw one line per series on a log x axis, with a legend and escaped text', () => {
    const svg = lineChart({
      title: 'p95 <by> users',
      xLabel: 'users',
      yLabel: 's',
      xLog: true,
      markers: true,
      series: [
        { name: 'direct', points: [[10, 1], [100, 2], [1000, 4]] },
        { name: 'Switchyard', points: [[10, 1], [100, 1], [1000, 1]] },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('p95 &lt;by&gt; users');
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(6);
    // Log scale: 10, 100 and 1,000 are evenly spaced from the left edge (70) to the right (620).
    const xs = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].slice(0, 3).map((m) => Number(m[1]));
    expect(xs).toEqual([70, 345, 620]);
    expect(svg).toContain('>1,000</text>');
  });
});
