import { describe, expect, it } from 'vitest';
import { answerDigest } from '../../simulator';
import { stepJobId } from '../../server/services/step-ids';
import { jobWorkflowId } from '../../workflows/definitions';
import { statusQuery } from '../../workflows/scheduler/api';
import { recordHistory } from '../support/histories';
import { until } from '../support/until';
import { useWorkerProcessStack } from '../support/worker-process';

/**
 * A collaboration through a worker crash: the only worker, a real `server/worker.ts` process, is
 * killed (SIGKILL) while two agents stream, and a new one started. The run must finish with
 * each step's text whole — the simulator's answer, nothing lost and nothing written twice — from
 * one step job each, and every slot given back.
 */

// About six seconds per answer: the three agents are still streaming when the worker dies, on a busy machine too.
const env = useWorkerProcessStack('collaboration', { tokensPerSecond: 20, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 120 });

const PARTS = ['agent-0', 'agent-1', 'agent-2', 'integration', 'review'];

describe('a collaboration through a worker crash', () => {
  it('finishes with each step’s text exactly once after its worker is killed mid-way through the agents', async () => {
    let worker = await env.startWorker();
    const author = await env.stack.signIn('demo@switchyard.dev', 'demo-password');
    const project = await env.stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } });
    const job = await author.caller.jobs.submitCollaboration({ projectId: project.id, task: 'A URL shortener with an admin page', clientKey: crypto.randomUUID() });

    // Two agents stream at once (the premium tier runs two jobs per user) and none has finished: the parallel phase is under way.
    await until(
      async () => {
        const agents = await env.stack.prisma.job.findMany({ where: { parentId: job.id, part: { startsWith: 'agent-' } }, select: { output: true, status: true } });
        return agents.filter((a) => a.output.length > 0 && a.status === 'running').length >= 2 && agents.every((a) => a.status !== 'completed');
      },
      'two agents to stream',
      240_000,
    );
    worker.killNow();
    await worker.exited;
    worker = await env.startWorker();

    const done = await until(
      async () => {
        const row = await env.stack.prisma.job.findUniqueOrThrow({ where: { id: job.id }, include: { children: { orderBy: { part: 'asc' } } } });
        return row.status !== 'queued' && row.status !== 'running' && row;
      },
      'the collaboration to end',
      480_000,
    );
    expect(done.status).toBe('completed');
    // One step job per part, no twin from the crash, each completed.
    expect(done.children.map((c) => [c.part, c.id, c.status])).toEqual(PARTS.map((part) => [part, stepJobId(job.id, part), 'completed']));
    // Each text is one of the answers the simulators gave in whole: a step resumed after the crash
    // neither lost its streamed prefix nor wrote it twice.
    const answers = new Set(env.sims.flatMap((sim) => sim.requests().map((r) => r.answerDigest)));
    for (const step of done.children) expect(answers.has(answerDigest(step.output)), `${step.part}'s text is the simulator's answer`).toBe(true);
    expect(new Set(done.children.map((c) => c.output)).size).toBe(PARTS.length);
    // A killed agent resumed (a second attempt on its model call or a second grant), yet each was streamed to the end once.
    expect(done.children.filter((c) => c.part!.startsWith('agent-')).some((c) => c.attempts >= 2)).toBe(true);
    expect(done.output).toBe(done.children.find((c) => c.part === 'integration')!.output);
    expect(done.completionTokens).toBe(done.children.reduce((sum, c) => sum + c.completionTokens, 0));
    // Each step ran as one workflow: the id a retried collaboration would reuse, one execution.
    for (const step of done.children) {
      const runs: string[] = [];
      for await (const run of env.temporal.client.workflow.list({ query: `WorkflowId = '${jobWorkflowId(step.id)}'` })) runs.push(run.runId);
      expect(runs, step.part!).toHaveLength(1);
    }
    // Every slot is back, and the author is told of the end once.
    await until(async () => {
      const status = await env.stack.scheduler().query(statusQuery);
      return status.leases.length === 0 && status.waiting === 0;
    }, 'every lease to be given back');
    const told = await until(async () => {
      const rows = await env.stack.prisma.notification.findMany({ where: { OR: [{ jobId: job.id }, { job: { parentId: job.id } }] }, select: { jobId: true, event: true } });
      return rows.length > 0 && rows;
    }, 'the author to be told');
    expect(told).toEqual([{ jobId: job.id, event: 'job.completed' }]);

    await recordHistory(env.temporal.client, 'collaboration-through-worker-crash', jobWorkflowId(job.id));
    worker.killNow();
    await worker.exited;
  }, 900_000);
});
