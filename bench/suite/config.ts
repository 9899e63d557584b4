/**
 * What one run of the suite does. Both designs always see the same simulator settings; the quick
 * mode shrinks the levels and the answers so the whole run fits in three minutes.
 */

export interface SimSettings {
  instances: number;
  /** OLLAMA_NUM_PARALLEL of each instance. */
  slots: number;
  /** OLLAMA_MAX_QUEUE of each instance: requests arriving while their model loads, past one + queue, get a 503. */
  queue: number;
  tokensPerSecond: number;
  /** Tokens in every answer. */
  tokens: number;
  ttftMs: number;
  loadMs: number;
}

export interface SuiteConfig {
  mode: 'quick' | 'full';
  /** Concurrent users of the burst scenarios: all submit at the same moment. */
  levels: number[];
  /** Steady arrivals: a fixed rate, below the backends' capacity, for a while. */
  steady: { perSecond: number; seconds: number };
  sim: SimSettings;
  /** Users per team; each team's project room is watched by one Socket.IO connection. */
  usersPerTeam: number;
  /** Keep-alive HTTP connections from all simulated browsers to the web process. */
  httpSockets: number;
}

/** Backend time of one answer: first token, then the tokens at the stream's pace. */
export const answerMs = (sim: SimSettings) => sim.ttftMs + (sim.tokens / sim.tokensPerSecond) * 1000;

export const totalSlots = (sim: SimSettings) => sim.instances * sim.slots;

/** Answers per second all slots together can give. */
export const capacityPerSecond = (sim: SimSettings) => (totalSlots(sim) * 1000) / answerMs(sim);

/**
 * Jobs per second the orchestration is assumed to sustain, for the caps only: the job path
 * sustains ~7/s on an idle two-core machine (bench/results/overhead.json) and 1.3–2/s when other
 * work shares the cores; the caps assume the low end.
 */
const ORCHESTRATION_PER_SECOND = 2;

/**
 * A scenario's time cap: a minute for start-up and stragglers plus twice the time its jobs need
 * at the slower of the backends and the orchestration. Past it, unfinished work counts as timed
 * out and is cancelled.
 */
export function scenarioCapMs(sim: SimSettings, jobs: number): number {
  const perJobMs = Math.max(answerMs(sim) / totalSlots(sim), 1000 / ORCHESTRATION_PER_SECOND);
  return 60_000 + 2 * jobs * perJobMs;
}

const fullSim: SimSettings = { instances: 4, slots: 4, queue: 512, tokensPerSecond: 24, tokens: 64, ttftMs: 150, loadMs: 1500 };
// A short queue, so that the quick run still shows what happens when it overflows.
const quickSim: SimSettings = { instances: 4, slots: 4, queue: 16, tokensPerSecond: 40, tokens: 24, ttftMs: 150, loadMs: 1500 };

export function suiteConfig(mode: 'quick' | 'full'): SuiteConfig {
  const sim = mode === 'quick' ? quickSim : fullSim;
  // 80 % of what the slots can serve: the queue stays short and neither design should refuse work.
  const perSecond = Math.round(0.8 * capacityPerSecond(sim) * 10) / 10;
  return {
    mode,
    levels: mode === 'quick' ? [10, 40, 120] : [10, 100, 1000, 5000],
    steady: { perSecond: mode === 'quick' ? Math.min(perSecond, 2) : perSecond, seconds: mode === 'quick' ? 10 : 45 },
    sim,
    usersPerTeam: 50,
    httpSockets: 128,
  };
}

export function simArgs(sim: SimSettings): string[] {
  return [
    '--slots', String(sim.slots),
    '--queue', String(sim.queue),
    '--tps', String(sim.tokensPerSecond),
    '--tokens', String(sim.tokens),
    '--ttft', String(sim.ttftMs),
    '--load-ms', String(sim.loadMs),
  ];
}
