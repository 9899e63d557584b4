import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { answerMs, capacityPerSecond, totalSlots, type SuiteConfig } from './config';
import type { Machine } from './machine';
import type { ScenarioResult } from './scenario';
import { lineChart } from './svg';

/** summary.json, report.md and the charts under bench/results/. */

export interface LevelResult {
  users: number;
  baseline: ScenarioResult;
  switchyard: ScenarioResult;
}

export interface SuiteResults {
  config: SuiteConfig;
  machine: Machine;
  command: string;
  startedAt: string;
  finishedAt: string;
  levels: LevelResult[];
  steady: { perSecond: number; seconds: number; baseline: ScenarioResult; switchyard: ScenarioResult } | undefined;
  /** The scenario that stopped the run because a process of the stack died, and why. */
  failed: { scenario: string; reason: string } | undefined;
}

const DESIGN_NAMES = { baseline: 'direct calls (baseline)', switchyard: 'Switchyard' } as const;
const pct = (value: number | null | undefined) => (value === null || value === undefined ? '–' : `${(value * 100).toFixed(1)} %`);
/** Completion rate, marked when the scenario was stopped by a failure of the stack. */
const completed = (r: ScenarioResult) => `${pct(r.completionRate)}${r.failed ? ' (failed)' : ''}`;
const ms = (value: number | null | undefined) => (value === null || value === undefined ? '–' : `${(value / 1000).toFixed(2)} s`);
const errors = (r: ScenarioResult) =>
  Object.entries(r.errors)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(', ') || 'none';

/** The figures without the time series, which go to their own file. */
function compact(result: ScenarioResult) {
  const { utilizationSamples: _samples, ...rest } = result;
  return rest;
}

export function writeResults(dir: string, results: SuiteResults): string[] {
  mkdirSync(dir, { recursive: true });
  const { config } = results;
  const summary = {
    benchmark: 'switchyard vs direct calls (issue 7)',
    mode: config.mode,
    command: results.command,
    startedAt: results.startedAt,
    finishedAt: results.finishedAt,
    machine: results.machine,
    ...(results.failed ? { failed: results.failed } : {}),
    settings: {
      simulator: config.sim,
      answerMs: answerMs(config.sim),
      totalSlots: totalSlots(config.sim),
      usersPerTeam: config.usersPerTeam,
      httpSockets: config.httpSockets,
    },
    levels: results.levels.map((level) => ({ users: level.users, baseline: compact(level.baseline), switchyard: compact(level.switchyard) })),
    steady: results.steady && {
      perSecond: results.steady.perSecond,
      seconds: results.steady.seconds,
      baseline: compact(results.steady.baseline),
      switchyard: compact(results.steady.switchyard),
    },
  };
  const files: Record<string, string> = {
    'summary.json': `${JSON.stringify(summary, null, 2)}\n`,
    'utilization-samples.json': `${JSON.stringify(
      results.levels.map((l) => ({ users: l.users, baseline: l.baseline.utilizationSamples, switchyard: l.switchyard.utilizationSamples })),
    )}\n`,
  };
  const largest = results.levels.at(-1);
  if (largest) {
    files['completion-rate.svg'] = lineChart({
      title: 'Jobs completed, by concurrent users',
      xLabel: 'concurrent users (log scale)',
      yLabel: 'completion rate (%)',
      xLog: true,
      yMax: 105,
      markers: true,
      series: (['baseline', 'switchyard'] as const).map((design) => ({
        name: DESIGN_NAMES[design],
        points: results.levels.map((l) => [l.users, l[design].completionRate * 100] as [number, number]),
      })),
    });
    files['p95.svg'] = lineChart({
      title: 'p95 completion time of completed jobs',
      xLabel: 'concurrent users (log scale)',
      yLabel: 'p95 (s)',
      xLog: true,
      markers: true,
      series: (['baseline', 'switchyard'] as const).map((design) => ({
        name: DESIGN_NAMES[design],
        points: results.levels.map((l) => [l.users, (l[design].p95Ms ?? 0) / 1000] as [number, number]),
      })),
    });
    files['utilization.svg'] = lineChart({
      title: `Backend slot utilisation over time, ${largest.users.toLocaleString('en-US')} users`,
      xLabel: 'seconds since the burst',
      yLabel: 'busy slots (%)',
      yMax: 105,
      series: (['baseline', 'switchyard'] as const).map((design) => ({
        name: DESIGN_NAMES[design],
        points: largest[design].utilizationSamples.map((s) => [s.t, s.busy * 100] as [number, number]),
      })),
    });
  }
  files['report.md'] = markdown(results);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return Object.keys(files).map((name) => path.join(dir, name));
}

/** The Markdown table of the levels, as in report.md (bench/README.md quotes it). */
export function levelsTable(levels: readonly LevelResult[]): string {
  const rows = levels.map(({ users, baseline: b, switchyard: s }) =>
    [
      users.toLocaleString('en-US'),
      completed(b),
      completed(s),
      ms(b.p95Ms),
      ms(s.p95Ms),
      `${b.throughputPerSecond} / ${s.throughputPerSecond}`,
      `${pct(b.utilization)} / ${pct(s.utilization)}`,
      ms(s.positionUpdateP95Ms),
    ].join(' | '),
  );
  return [
    '| users | completed: direct | completed: Switchyard | p95: direct | p95: Switchyard | jobs/s direct / Sw. | utilisation while work waits, direct / Sw. | position update p95 |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}

function markdown(results: SuiteResults): string {
  const { config, machine } = results;
  const sim = config.sim;
  const lines = [
    `# Switchyard against direct calls — ${config.mode} run`,
    '',
    `Command: \`${results.command}\` · ${results.startedAt} → ${results.finishedAt}`,
    '',
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGb} GB RAM, Node ${machine.node}, ${machine.os}; ` +
      `load average at start ${machine.loadAverageAtStart.join(' / ')}. **Shared**: the simulator, PostgreSQL, Temporal, worker, web ` +
      `and the simulated users all ran on these ${machine.cores} cores, and the machine may have run other work too (see the load average).`,
    '',
    `Backends: ${sim.instances} simulated Ollama instances × ${sim.slots} slots (queue ${sim.queue}, 503 past it), ${sim.tokens} tokens ` +
      `per answer at ${sim.tokensPerSecond} tokens/s, first token after ${sim.ttftMs} ms, model load ${sim.loadMs} ms: ` +
      `${(answerMs(sim) / 1000).toFixed(2)} s per answer, at most ${capacityPerSecond(sim).toFixed(1)} answers/s. ` +
      'Same settings for both designs.',
    '',
    ...(results.failed
      ? [`**The run stopped during ${results.failed.scenario}: ${results.failed.reason}.** The scenarios before it are complete.`, '']
      : []),
    '## Burst: every user submits at the same moment',
    '',
    levelsTable(results.levels),
    '',
    '![completion rate](completion-rate.svg) ![p95](p95.svg)',
    '',
    '![utilisation over time](utilization.svg)',
    '',
    '| users | design | errors | p50 | p95 | p99 | CPU s web / worker / temporal / sim / db | peak RSS MB web / worker / temporal | missed events |',
    '|---:|---|---|---:|---:|---:|---|---|---:|',
    ...results.levels.flatMap((l) => [detailRow(l.users, 'direct', l.baseline), detailRow(l.users, 'Switchyard', l.switchyard)]),
  ];
  if (results.steady) {
    const { perSecond, seconds, baseline, switchyard } = results.steady;
    lines.push(
      '',
      `## Steady arrivals: ${perSecond} jobs/s for ${seconds} s (${Math.round((perSecond / capacityPerSecond(sim)) * 100)} % of the backends' capacity)`,
      '',
      '| design | completed | errors | p50 | p95 | p99 | jobs/s | CPU s web / worker / temporal / sim / db |',
      '|---|---:|---|---:|---:|---:|---:|---|',
      ...[['direct', baseline] as const, ['Switchyard', switchyard] as const].map(
        ([name, r]) =>
          `| ${name} | ${completed(r)} | ${errors(r)} | ${ms(r.p50Ms)} | ${ms(r.p95Ms)} | ${ms(r.p99Ms)} | ${r.throughputPerSecond} | ${cpu(r)} |`,
      ),
    );
  }
  lines.push(
    '',
    '## How it is measured',
    '',
    '- **Direct calls (baseline)**: each user calls an instance itself (round-robin) with the `ollama` client, streaming, no queue, ' +
      'no retry, its own connection; the client library keeps its defaults (undici gives up on a response whose headers take over 300 s).',
    `- **Switchyard**: each user submits through tRPC over HTTP with its own session (${config.httpSockets} keep-alive connections ` +
      `shared by all users, as behind a proxy); the end of each job comes from \`job:update\` on Socket.IO, one connection per team of ` +
      `${config.usersPerTeam} (the events every member's browser receives); jobs whose event never came are looked up with \`jobs.get\` ("missed events").`,
    '- Completion time: from the user\'s submit to the end of the answer (direct) or to the completion event (Switchyard), failures excluded.',
    '- Utilisation: slot-time held by requests at the backends (their `/_sim/stats`), over the intervals in which more jobs were ' +
      'unfinished than there are slots.',
    '- Position update latency: receive time − `at` of each `queue:team` event (the scheduler\'s time of the state); "–" when no such event came.',
    '- Each scenario is capped (`capSeconds` in summary.json): a minute plus twice its jobs\' time at the slower of the backends and ' +
      'an assumed 2 jobs/s of orchestration, or less when `--max-minutes` leaves less (`capCause`: "run time budget"); past the cap ' +
      'unfinished jobs count as timed out and are cancelled.',
    '- A scenario during which a process of the stack (web, worker, Temporal, simulator, PostgreSQL) dies stops at once: it is ' +
      'marked "(failed)", its unfinished jobs carry the reason as their error, and the run ends there.',
    '- Utilisation samples are taken every 0.5 s on the backends\' own clocks; the chart shows them, the table their slot-time-weighted mean.',
  );
  return `${lines.join('\n')}\n`;
}

function cpu(r: ScenarioResult): string {
  return ['web', 'worker', 'temporal', 'sim', 'db'].map((name) => r.processes[name]?.cpuSeconds ?? '–').join(' / ');
}

function detailRow(users: number, name: string, r: ScenarioResult): string {
  const rss = ['web', 'worker', 'temporal'].map((p) => r.processes[p]?.peakRssMb ?? '–').join(' / ');
  return `| ${users.toLocaleString('en-US')} | ${name} | ${errors(r)} | ${ms(r.p50Ms)} | ${ms(r.p95Ms)} | ${ms(r.p99Ms)} | ${cpu(r)} | ${rss} | ${r.missedEvents ?? '–'} |`;
}
