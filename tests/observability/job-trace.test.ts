import { afterAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type ReceivedSpan } from '../../bench/lib/otlp-receiver';
import { JOB_ID, tracer } from '../../server/tracing';
import { startTracing } from '../../server/tracing/sdk';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';

/**
 * One job through the real Temporal dev server on a simulated Ollama that loads its model, traced
 * as server/worker.ts traces (the SDK's interceptors, the workflow sink, the traced bundle) and
 * exported over OTLP to a receiver in this file: its trace says where the time went.
 */

const receiver = await startOtlpReceiver();
// Before the stack's clients exist, as the processes start it.
const tracing = startTracing({ endpoint: receiver.url, serviceName: 'switchyard-test' });
afterAll(async () => {
  await tracing.shutdown();
  await receiver.close();
});

const { stack } = useJobStack({
  simulators: [{ tokensPerSecond: 400, timeToFirstTokenMs: 30, modelLoadMs: 150, outputTokens: 40 }],
  tracing,
});

describe("a job's trace", () => {
  it('has admission, the wait for a slot, model load, time to first token, generation, review and save, with the job id', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
    // The request's span, as the web's HTTP middleware opens it.
    const { job, traceId } = await tracer().startActiveSpan('POST /trpc/jobs.submit', async (span) => {
      // Heavy words (cache, database, transaction) make a job that is reviewed.
      const submitted = await demo.caller.jobs.submit({
        projectId,
        requirements: 'A thread-safe LRU cache in front of a database, with transaction-aware invalidation',
        clientKey: 'traced-job-1',
        priority: 'normal',
      });
      span.end();
      return { job: submitted, traceId: span.spanContext().traceId };
    });
    await until(async () => (await demo.caller.jobs.get({ jobId: job.id })).status === 'completed', 'the job to complete', 60_000);

    const expected = ['job.admission', 'job.wait_for_slot', 'llm.model_load', 'llm.time_to_first_token', 'llm.generation', 'RunActivity:reviewCode', 'RunActivity:saveResult'];
    const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
    await until(async () => {
      await tracing.flush();
      return expected.every((name) => inTrace().some((span) => span.name === name)) && inTrace().some((span) => span.name.startsWith('RunWorkflow:'));
    }, 'the spans to arrive', 30_000);

    const spans = inTrace();
    const named = (name: string): ReceivedSpan => spans.find((span) => span.name === name)!;
    for (const name of expected) expect(named(name).attributes[JOB_ID], name).toBe(job.id);
    // The workflow's own spans (from inside the sandbox, through the sink) name the job too.
    const workflowSpans = spans.filter((span) => /^(RunWorkflow|StartActivity):/.test(span.name));
    expect(workflowSpans.map((span) => span.name)).toEqual(expect.arrayContaining(['StartActivity:generate', 'StartActivity:saveResult']));
    for (const span of workflowSpans) expect(span.attributes[JOB_ID], span.name).toBe(job.id);
    // One tree: submit → tRPC procedure → admission; the workflow under the submit (its start carried the context) → the activities.
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const ancestors = (span: ReceivedSpan): string[] => {
      const names: string[] = [];
      for (let at = span.parentSpanId && byId.get(span.parentSpanId); at; at = at.parentSpanId && byId.get(at.parentSpanId)) names.push(at.name);
      return names;
    };
    expect(ancestors(named('job.admission'))).toEqual(['trpc jobs.submit', 'POST /trpc/jobs.submit']);
    expect(ancestors(named('llm.generation'))).toEqual(expect.arrayContaining(['llm.chat', 'RunActivity:generate', 'POST /trpc/jobs.submit']));
    expect(ancestors(named('llm.generation')).some((name) => name.startsWith('RunWorkflow:'))).toBe(true);
    expect(ancestors(named('RunActivity:saveResult'))).toContain('POST /trpc/jobs.submit');
    // The model call's HTTP request (fetch, through undici's instrumentation), and Prisma's queries.
    expect(spans.some((span) => span.name === 'POST' && ancestors(span).includes('llm.chat'))).toBe(true);
    expect(spans.some((span) => span.name.startsWith('prisma:'))).toBe(true);

    // The phases in order, and as long as the simulator made them.
    const ms = (span: ReceivedSpan) => (Number(span.endTimeUnixNano) - Number(span.startTimeUnixNano)) / 1e6;
    expect(ms(named('llm.model_load'))).toBeGreaterThanOrEqual(150);
    expect(ms(named('llm.time_to_first_token'))).toBeGreaterThanOrEqual(ms(named('llm.model_load')));
    expect(BigInt(named('llm.generation').startTimeUnixNano)).toBe(BigInt(named('llm.time_to_first_token').endTimeUnixNano));
    expect(named('llm.chat').events.map((event) => event.name)).toContain('first_token');
    expect(BigInt(named('job.wait_for_slot').startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(named('job.admission').startTimeUnixNano));
  });
});
