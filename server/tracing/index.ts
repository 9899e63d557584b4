import { trace, type Tracer } from '@opentelemetry/api';

/**
 * The code's own spans, through `@opentelemetry/api`: no-op until a process starts tracing
 * (./sdk.ts, when OTEL_EXPORTER_OTLP_ENDPOINT is set).
 */

/** The attribute naming the job on every span about one. */
export const JOB_ID = 'switchyard.job.id';

/** Where the code's own spans come from: a no-op tracer until a provider is registered. */
export function tracer(): Tracer {
  return trace.getTracer('switchyard');
}
