import { fileURLToPath } from 'node:url';
import { createTraceState, trace, type Attributes, type Context, type Link, type SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { PrismaInstrumentation } from '@prisma/instrumentation';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import { jobIdOfWorkflow } from '../../workflows/definitions';
import { JOB_ID } from '.';

/**
 * OpenTelemetry for one process, started only when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans go
 * over OTLP (http/json) to `<endpoint>/v1/traces`. Unset, nothing here runs — no provider, no
 * interceptors, no traced workflow bundle — and the spans the code opens through
 * `@opentelemetry/api` (./index.ts, tracer()) are the API's no-op ones.
 *
 * A job's trace: the web's request span → its tRPC procedure → `job.admission` → the workflow's
 * start (the client interceptor carries the context in its headers) → the workflow's spans (inside
 * the sandbox, exported through a sink) → each activity's `RunActivity:*` span → in `generate`,
 * `job.wait_for_slot` and the model call (`llm.chat` with `llm.model_load`,
 * `llm.time_to_first_token`, `llm.generation` and the HTTP request under it) → Prisma's queries.
 */

export interface TracingConfig {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL. */
  endpoint: string;
  /** OTEL_EXPORTER_OTLP_HEADERS, parsed: e.g. an API key for a hosted collector. */
  headers?: Record<string, string>;
  /** OTEL_SERVICE_NAME. */
  serviceName: string;
  /** OTEL_TRACES_SAMPLER_ARG: the share of new traces kept (a kept parent's children always are). */
  sampleRatio?: number;
}

/**
 * The workflow interceptor module a traced workflow bundle is built with (bundles fix their
 * interceptors): ours in place of the SDK's, whose OpenTelemetry SDK the sandbox evaluates for
 * every workflow (workflows/tracing-interceptors.ts says more). From server/tracing/ here and from
 * dist/server/ in the built worker, the repository is two levels up.
 */
export const TRACED_WORKFLOW_MODULES = [fileURLToPath(new URL('../../workflows/tracing-interceptors.ts', import.meta.url))];

export function startTracing(config: TracingConfig) {
  const resource = new Resource({ 'service.name': config.serviceName });
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: `${config.endpoint.replace(/\/$/, '')}/v1/traces`, headers: config.headers ?? {} }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [processor],
    sampler: new ParentBasedSampler({ root: new NoDetachedQueries(new TraceIdRatioBasedSampler(config.sampleRatio ?? 1)) }),
  });
  // The global context manager (AsyncLocalStorage) and W3C trace-context propagation.
  provider.register();
  // Calls to the LLM backends go through fetch (undici); Prisma reports its own queries.
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new UndiciInstrumentation()] });
  // One span per query (its model and operation) and one per transaction say where a job's
  // database time went. The client's serialize/compile/connect steps, the SQL statements beneath
  // each operation and a transaction's begin/commit multiplied the spans per job (72 of 140 were
  // SQL and begin/commit, bench:overhead's observability phase) and told a reader little more.
  const prisma = new PrismaInstrumentation({
    ignoreSpanTypes: [/^prisma:client:(serialize|compile|connect|db_query|start_transaction|commit_transaction)$/],
  });
  prisma.setTracerProvider(provider);
  prisma.enable();

  /** The job an activity belongs to, on its `RunActivity:*` span (inside the tracing interceptor's). */
  const jobOnActivitySpan: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      execute(input, next) {
        const workflowId = ctx.info.workflowExecution?.workflowId;
        const jobId = workflowId === undefined ? undefined : jobIdOfWorkflow(workflowId);
        if (jobId) trace.getActiveSpan()?.setAttribute(JOB_ID, jobId);
        return next(input);
      },
    },
  });

  return {
    /** For `new Client({ interceptors })`: workflow starts, signals and queries carry the caller's context. */
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] },
    /** Merged into the workers' options: activity spans, and the sink the workflows' spans leave the sandbox through. */
    workerInterceptors: {
      activity: [
        (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
        jobOnActivitySpan,
      ] satisfies ActivityInterceptorsFactory[],
    },
    sinks: workflowSpanSink(processor, resource),
    workflowInterceptorModules: TRACED_WORKFLOW_MODULES,
    /** Sends what is buffered (tests and benchmarks read it at once). */
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      prisma.disable();
      await provider.shutdown();
    },
  };
}

export type Tracing = ReturnType<typeof startTracing>;

/**
 * Drops traces that would begin with a Prisma span: a query outside any request, activity or
 * workflow (presence counts, queue snapshots, the backend registry's refresh) is background noise
 * that belongs to no job. Every other new trace goes to `next`; a job's own queries always have a
 * parent and follow it.
 */
class NoDetachedQueries implements Sampler {
  constructor(private readonly next: Sampler) {}

  shouldSample(context: Context, traceId: string, spanName: string, spanKind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    if (spanName.startsWith('prisma:')) return { decision: SamplingDecision.NOT_RECORD };
    return this.next.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `NoDetachedQueries{${this.next.toString()}}`;
  }
}

/**
 * The sink the workflows' spans leave the sandbox through, each span tagged with its job and its
 * execution. In place of the SDK's `makeWorkflowExporter`, which copies the whole WorkflowInfo
 * (some thirty fields, nested objects among them) onto every span for the exporter to serialise,
 * and names no job.
 */
function workflowSpanSink(processor: SpanProcessor, resource: Resource): InjectedSinks<OpenTelemetrySinks> {
  return {
    exporter: {
      export: {
        fn: (info, spans) => {
          const jobId = jobIdOfWorkflow(info.workflowId);
          // The keys the SDK's activity spans carry the execution under.
          const execution = { temporalWorkflowId: info.workflowId, run_id: info.runId, ...(jobId ? { [JOB_ID]: jobId } : {}) };
          for (const span of spans) {
            const { traceId, spanId, traceFlags, traceState } = span.spanContext;
            const spanContext = { traceId, spanId, traceFlags, traceState: traceState === undefined ? undefined : createTraceState(traceState) };
            // Field by field: rest and spread copies of each span cost more than the rest of its way out.
            const readable: ReadableSpan = {
              name: span.name,
              kind: span.kind,
              spanContext: () => spanContext,
              parentSpanId: span.parentSpanId,
              startTime: span.startTime,
              endTime: span.endTime,
              duration: span.duration,
              status: span.status,
              attributes: Object.assign(span.attributes, execution),
              links: span.links,
              events: span.events,
              ended: span.ended,
              resource,
              instrumentationLibrary: span.instrumentationLibrary,
              droppedAttributesCount: span.droppedAttributesCount,
              droppedEventsCount: span.droppedEventsCount,
              droppedLinksCount: span.droppedLinksCount,
            };
            processor.onEnd(readable);
          }
        },
      },
    },
  };
}
