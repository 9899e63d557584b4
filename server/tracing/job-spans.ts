import { SpanStatusCode, type Attributes } from '@opentelemetry/api';
import type { ChatResult } from '../llm/types';
import { JOB_ID, tracer } from '.';

/**
 * The spans that say where a job's time went inside its `generate` activity: the wait for its
 * slot, and the model call split into model load, time to first token and generation. The times
 * come from the scheduler's grant and the backend's own answer, so the spans are drawn after the
 * fact, under the activity's span.
 */

/** `job.wait_for_slot`: from the job's request for capacity to the scheduler's grant (its clock). */
export function traceWaitForSlot(jobId: string, grant: { grantedAt: number; waitedMs: number }): void {
  tracer()
    .startSpan('job.wait_for_slot', { startTime: grant.grantedAt - grant.waitedMs, attributes: { [JOB_ID]: jobId } })
    .end(grant.grantedAt);
}

/**
 * `llm.chat` around one streamed model call (the HTTP request's span beneath it), and after it
 * `llm.model_load` (Ollama's load_duration), `llm.time_to_first_token` and `llm.generation`.
 */
export function traceModelCall(attributes: Attributes & { [JOB_ID]: string }, call: () => Promise<ChatResult>): Promise<ChatResult> {
  return tracer().startActiveSpan('llm.chat', { attributes }, async (span) => {
    const startedAt = Date.now();
    try {
      const result = await call();
      const firstTokenAt = startedAt + result.timeToFirstTokenMs;
      const endedAt = startedAt + result.durationMs;
      const phase = (name: string, start: number, end: number) => tracer().startSpan(name, { startTime: start, attributes }).end(end);
      if (result.loadMs) phase('llm.model_load', startedAt, startedAt + result.loadMs);
      phase('llm.time_to_first_token', startedAt, firstTokenAt);
      phase('llm.generation', firstTokenAt, endedAt);
      span.addEvent('first_token', firstTokenAt);
      span.setAttributes({
        'gen_ai.response.model': result.model,
        'gen_ai.usage.input_tokens': result.promptTokens,
        'gen_ai.usage.output_tokens': result.completionTokens,
        'switchyard.time_to_first_token_ms': result.timeToFirstTokenMs,
        ...(result.loadMs ? { 'switchyard.model_load_ms': result.loadMs } : {}),
      });
      return result;
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
