import { describe, expect, it } from 'vitest';
import { closedUrl, startSimulator } from '../../tests/support/llm';
import { startCap } from './cap';
import { runBaseline } from './baseline';
import { startBackendMonitor } from './backend-monitor';
import { summarizeOutcomes } from './outcomes';
import { startProcessMonitor } from './process-monitor';

describe('bench suite: direct calls', () => {
  it('complete within the slots and the load queue, and name the 503 of a full queue and a refused connection', async () => {
    // Ollama refuses only requests that arrive while their model loads: a long load makes the burst one.
    const sim = await startSimulator({ slots: 1, maxQueue: 1, outputTokens: 20, tokensPerSecond: 200, modelLoadMs: 2_000 });
    const refusing = await closedUrl();
    const cap = startCap(20_000);
    try {
      // Users 0, 2 and 4 go to the simulator (one loaded for, one queued, one refused); 1, 3 and 5 to a closed port.
      const run = runBaseline([sim.url, refusing], [0, 0, 0, 0, 0, 0], performance.now(), cap);
      await run.done;
      const summary = summarizeOutcomes(run.outcomes);
      expect(summary).toMatchObject({ users: 6, completed: 2, completionRate: 0.3333, errors: { '503 queue full': 1, 'connection refused': 3 } });
      expect(sim.stats()).toMatchObject({ requests: 3, rejected: 1, active: 0 });
    } finally {
      cap.dispose();
    }
  });

  it('count what is unfinished at the cap as timed out, and leave nothing running', async () => {
    const sim = await startSimulator({ slots: 1, outputTokens: 1_000, tokensPerSecond: 20 });
    const cap = startCap(300);
    const run = runBaseline([sim.url], [0, 0], performance.now(), cap);
    await run.done;
    expect(summarizeOutcomes(run.outcomes)).toMatchObject({ completed: 0, errors: { 'timeout (scenario cap)': 2 } });
    await expect.poll(() => sim.stats()).toMatchObject({ active: 0, queued: 0 });
  });

  it('stop at once when the scenario is stopped (a process of the stack died), with the reason as the error', async () => {
    const sim = await startSimulator({ slots: 1, outputTokens: 1_000, tokensPerSecond: 20 });
    const cap = startCap(60_000);
    const started = performance.now();
    // The second user arrives after the stop: it never submits and carries the reason too.
    const run = runBaseline([sim.url], [0, 30_000], started, cap);
    setTimeout(() => cap.stop('stack process died: worker exited unexpectedly (signal SIGABRT)'), 300);
    await run.done;
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(cap.stopReason).toBe('stack process died: worker exited unexpectedly (signal SIGABRT)');
    expect(summarizeOutcomes(run.outcomes)).toMatchObject({
      completed: 0,
      errors: { 'stack process died: worker exited unexpectedly (signal SIGABRT)': 2 },
    });
    await expect.poll(() => sim.stats()).toMatchObject({ active: 0, queued: 0 });
  });
});

describe('bench suite: backend utilisation', () => {
  it('is about 1 while requests queue at the backends, and counts only those intervals as waiting', async () => {
    const sim = await startSimulator({ slots: 2, outputTokens: 12, tokensPerSecond: 20 });
    const cap = startCap(20_000);
    const monitor = await startBackendMonitor([sim.url], () => 0, 100);
    try {
      // Six answers of 0.6 s on two slots: two rounds with requests queued, a last one without, then idle.
      await runBaseline([sim.url], [0, 0, 0, 0, 0, 0], performance.now(), cap).done;
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      cap.dispose();
    }
    const report = await monitor.stop();
    expect(report.whileWaiting).toBeGreaterThan(0.9);
    expect(report.whileWaiting).toBeLessThanOrEqual(1);
    expect(report.overall).toBeLessThan(report.whileWaiting!);
    expect(report.samples.at(-1)).toMatchObject({ busy: 0, waitingInFront: 0, queuedAtBackends: 0 });
  });
});

describe('bench suite: process figures', () => {
  it('read CPU seconds and resident memory of a process group from /proc', async () => {
    // This test's process may not lead a group; its own group is what /proc reports for it.
    const group = Number((await import('node:fs')).readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[2]);
    const monitor = startProcessMonitor([{ name: 'self', pid: group }], 50);
    // Burns 0.3 s of CPU however busy the machine is.
    const before = process.cpuUsage();
    while (process.cpuUsage(before).user < 300_000) Math.sqrt(Math.random());
    const figures = monitor.stop();
    expect(figures.self!.cpuSeconds).toBeGreaterThanOrEqual(0.25);
    expect(figures.self!.peakRssMb).toBeGreaterThan(20);
  });
});
