import type { HrTime, SpanStatus } from '@opentelemetry/api';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';
import type { OpenTelemetrySinks, SerializableSpan } from '@temporalio/interceptors-opentelemetry';
import { ContinueAsNew, proxySinks, uuid4, workflowInfo, type WorkflowInterceptors } from '@temporalio/workflow';

/**
 * The workflow side of tracing, bundled into the traced workflow bundle only (server/tracing/sdk.ts,
 * TRACED_WORKFLOW_MODULES). It draws the spans the SDK's OpenTelemetry workflow interceptors draw,
 * under the same names and in the same `_tracer-data` header, so the client's and the activities'
 * interceptors continue them: `RunWorkflow:*` under the starter's context, `HandleSignal:*` under
 * the sender's, and `StartActivity:*`, `SignalWorkflow:*`, `StartChildWorkflow:*` and
 * `ContinueAsNew:*` under the run (or under the signal whose handler makes the call).
 *
 * Why not the SDK's: its module brings an OpenTelemetry SDK into the sandbox, which a reused V8
 * context evaluates afresh for every workflow (semantic conventions, resources, a tracer provider
 * and its processor), and its spans go through a context manager and an export path built on
 * promises, each of which the worker's promise hook gives a captured stack trace. That tripled
 * the workflow thread's CPU under bench:overhead. Here a span is a plain object, ended into the
 * sink; no promise is created that the workflow's own calls would not create.
 *
 * The call's parent is tracked without async context: the handler of a signal is the parent
 * while it runs synchronously (this codebase's handlers all are), anything else is the run's.
 * Queries and updates draw no spans: the scheduler answers many queries, and nothing reads them.
 */

const TRACE_HEADER = '_tracer-data';
/** SpanKind.INTERNAL and SpanStatusCode, as numbers: the API's module stays out of the sandbox. */
const INTERNAL = 0;
const OK: SpanStatus = { code: 1 };
const UNSET: SpanStatus = { code: 0 };

interface SpanParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
}

interface OpenSpan extends SpanParent {
  name: string;
  parentSpanId?: string;
  startMs: number;
}

const exporter = proxySinks<OpenTelemetrySinks>().exporter;

/** A random id of `length` hex digits (at most 32): the workflow's seeded uuid4, so ids repeat on replay, where nothing is exported. */
function hex(length: number): string {
  return uuid4().replace(/-/g, '').slice(0, length);
}

function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];
}

/** The caller's context from the W3C `traceparent` (and `tracestate`) the header carries. */
function extract(headers: Headers): SpanParent | undefined {
  const payload = headers[TRACE_HEADER];
  if (payload === undefined) return undefined;
  const carrier = defaultPayloadConverter.fromPayload<{ traceparent?: string; tracestate?: string }>(payload);
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(carrier.traceparent ?? '');
  if (!match) return undefined;
  return { traceId: match[1]!, spanId: match[2]!, traceFlags: parseInt(match[3]!, 16), traceState: carrier.tracestate };
}

function withContext(headers: Headers, span: SpanParent): Headers {
  const carrier = { traceparent: `00-${span.traceId}-${span.spanId}-0${span.traceFlags.toString(16)}`, ...(span.traceState ? { tracestate: span.traceState } : {}) };
  return { ...headers, [TRACE_HEADER]: defaultPayloadConverter.toPayload(carrier) };
}

function start(name: string, parent: SpanParent | undefined): OpenSpan {
  return {
    name,
    traceId: parent?.traceId ?? hex(32),
    spanId: hex(16),
    // A new trace is kept: the worker's sampler decides for traces that begin outside a workflow.
    traceFlags: parent?.traceFlags ?? 1,
    traceState: parent?.traceState,
    parentSpanId: parent?.spanId,
    startMs: Date.now(),
  };
}

function end(span: OpenSpan, status: SpanStatus): void {
  // An unsampled trace (the sampler's choice upstream) is not exported.
  if ((span.traceFlags & 1) === 0) return;
  const endMs = Date.now();
  const exported: SerializableSpan = {
    name: span.name,
    kind: INTERNAL,
    spanContext: { traceId: span.traceId, spanId: span.spanId, traceFlags: span.traceFlags, traceState: span.traceState },
    parentSpanId: span.parentSpanId,
    startTime: hrTime(span.startMs),
    endTime: hrTime(endMs),
    duration: hrTime(endMs - span.startMs),
    status,
    attributes: {},
    links: [],
    events: [],
    ended: true,
    droppedAttributesCount: 0,
    droppedLinksCount: 0,
    droppedEventsCount: 0,
    instrumentationLibrary: { name: 'switchyard-workflow' },
  };
  exporter.export([exported]);
}

function failed(error: unknown): SpanStatus {
  if (error instanceof ContinueAsNew) return UNSET;
  return { code: 2, message: error instanceof Error ? error.message : String(error) };
}

/** Ends `span` when `result` settles, with its outcome. */
async function until<T>(span: OpenSpan, result: Promise<T>): Promise<T> {
  try {
    const value = await result;
    end(span, OK);
    return value;
  } catch (error) {
    end(span, failed(error));
    throw error;
  }
}

export const interceptors = (): WorkflowInterceptors => {
  let run: OpenSpan | undefined;
  /** The span outbound calls are made under: a signal's while its handler runs, else the run's. */
  let current: OpenSpan | undefined;

  /** An outbound call under its own span, whose context the call's headers carry on. */
  const traced = <I extends { headers: Headers }, O>(name: string, input: I, next: (input: I) => Promise<O>): Promise<O> => {
    const span = start(name, current ?? run);
    return until(span, next({ ...input, headers: withContext(input.headers, span) }));
  };

  return {
    inbound: [
      {
        execute(input, next) {
          run = start(`RunWorkflow:${workflowInfo().workflowType}`, extract(input.headers));
          current = run;
          return until(run, next(input));
        },
        handleSignal(input, next) {
          const span = start(`HandleSignal:${input.signalName}`, extract(input.headers));
          const outer = current;
          current = span;
          try {
            return until(span, next(input));
          } finally {
            current = outer;
          }
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => traced(`StartActivity:${input.activityType}`, input, next),
        scheduleLocalActivity: (input, next) => traced(`StartActivity:${input.activityType}`, input, next),
        signalWorkflow: (input, next) => traced(`SignalWorkflow:${input.signalName}`, input, next),
        startChildWorkflowExecution: (input, next) => traced(`StartChildWorkflow:${input.workflowType}`, input, next),
        continueAsNew: (input, next) => traced(`ContinueAsNew:${input.options.workflowType ?? workflowInfo().workflowType}`, input, next),
      },
    ],
  };
};
