import { beforeAll, describe, expect, it } from 'vitest';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';

/**
 * Model affinity end to end: two simulated Ollama instances of one slot that keep one model
 * resident (a different model evicts it and costs a load), jobs of two models submitted in pairs
 * while both are free. Placement by load or name alone would swap the models on every other pair.
 */

const MODELS = ['qwen2.5-coder:7b', 'llama3.1:8b'] as const;
const simulator = { slots: 1, maxLoadedModels: 1, modelLoadMs: 50, tokensPerSecond: 400, timeToFirstTokenMs: 5, outputTokens: 20 };
const { stack, sims } = useJobStack({ simulators: [simulator, simulator], slots: 1, leaseCheckMs: 1_000 });
let projectId: string;

beforeAll(async () => {
  projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
});

describe('model affinity', () => {
  it('sends each job to the backend that has its model loaded, so pairs of mixed jobs cause no model switch', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const runPair = async (models: readonly string[]) => {
      const jobs: { id: string }[] = [];
      for (const model of models) {
        jobs.push(await demo.caller.jobs.submit({ projectId, model, requirements: `a function (${model})`, clientKey: crypto.randomUUID(), priority: 'normal' }));
      }
      return until(async () => {
        const rows = await stack.prisma.job.findMany({ where: { id: { in: jobs.map((job) => job.id) } }, select: { model: true, backendId: true, status: true } });
        return rows.every((row) => row.status === 'completed') && rows;
      }, 'the pair to complete');
    };
    const loads = () => sims.reduce((sum, sim) => sum + sim.stats().modelLoads, 0);

    // Warm-up: each backend loads one of the models.
    const first = await runPair(MODELS);
    expect(loads()).toBe(2);
    const home = new Map(first.map((row) => [row.model, row.backendId]));
    expect(new Set(home.values()).size).toBe(2);

    // Both orders, so that neither a name nor a load tie-break can happen to be right.
    for (const models of [[...MODELS].reverse(), MODELS, [...MODELS].reverse(), MODELS]) {
      for (const row of await runPair(models)) expect(row.backendId).toBe(home.get(row.model));
    }
    expect(loads()).toBe(2);
  }, 120_000);
});
