import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { mergeStreamed } from '~/lib/stream-text';
import { useRoom } from '~/lib/socket';
import { useTRPC } from '~/lib/trpc';
import { StatusBadge } from './StatusBadge';

const ACTIVE = new Set(['queued', 'running']);
const RETRYABLE = new Set(['failed', 'dead_letter', 'cancelled']);
const REFRESH_MS: Record<string, number> = { queued: 2_000, running: 10_000 };

const REVIEW_LABELS: Record<string, string> = {
  passed: 'no issues found',
  issues: 'issues found',
  timed_out: 'timed out',
  skipped: 'skipped',
};

function queueText(queue: { position: number; etaMs: number | null; blocked: string | null } | null): string {
  if (!queue) return 'Waiting for a free model slot…';
  if (queue.blocked) return `Waiting: no backend can run this job right now (${queue.blocked}).`;
  const ahead = queue.position === 0 ? 'Next in line' : `${queue.position} ${queue.position === 1 ? 'job' : 'jobs'} ahead`;
  return queue.etaMs === null ? `${ahead}.` : `${ahead} · starts in about ${formatWait(queue.etaMs)}.`;
}

function formatWait(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

export function JobView({ jobId }: { jobId: string }) {
  const trpc = useTRPC();
  // While queued, the position moves as other jobs start: refresh it every few seconds. While
  // running, a slower refresh is the safety net for a final event lost with a dropped socket.
  const job = useQuery({
    ...trpc.jobs.get.queryOptions({ jobId }),
    refetchInterval: (query) => REFRESH_MS[query.state.data?.status ?? ''] ?? false,
  });
  const [streamed, setStreamed] = useState('');
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions({ onSuccess: () => void job.refetch() }));
  const retry = useMutation(
    trpc.jobs.retry.mutationOptions({
      onSuccess: () => {
        setStreamed('');
        void job.refetch();
      },
    }),
  );

  // The stored output is the truth; streamed pieces extend it until the next refetch.
  useEffect(() => {
    if (!job.data) return;
    const stored = job.data.output;
    setStreamed((s) => (stored.length >= s.length || !s.startsWith(stored) ? stored : s));
  }, [job.data]);

  useRoom(
    { kind: 'job', id: jobId },
    {
      'job:tokens': ({ offset, text }) =>
        setStreamed((current) => {
          const merged = mergeStreamed(current, offset, text);
          if (merged === null) void job.refetch();
          return merged ?? current;
        }),
      'job:update': () => void job.refetch(),
    },
    () => void job.refetch(),
  );

  if (job.isPending) return <div className="card" aria-busy="true">Loading job…</div>;
  if (job.isError) {
    return (
      <div className="card" role="alert">
        <p className="error">{job.error.message}</p>
      </div>
    );
  }
  const { status, result, error, progress } = job.data;
  const active = ACTIVE.has(status);
  const notes = (result?.review as { notes?: string[] } | null)?.notes ?? [];

  return (
    <article className="card stack job-view" aria-label="Job">
      <header className="row spread">
        <div>
          <h2>{job.data.requirements}</h2>
          <p className="muted">
            {job.data.user.name} · {job.data.model}
            {job.data.backendId && ` on ${job.data.backendId}`}
            {job.data.completionTokens > 0 && ` · ${job.data.completionTokens} tokens`}
            {progress && ` · ${progress.stage}`} ·{' '}
            <a href={job.data.temporalUrl} target="_blank" rel="noreferrer">
              workflow
            </a>
          </p>
        </div>
        <div className="row">
          <StatusBadge status={status} />
          {active && (
            <button type="button" className="secondary" onClick={() => cancel.mutate({ jobId })} disabled={cancel.isPending}>
              Cancel
            </button>
          )}
          {RETRYABLE.has(status) && (
            <button type="button" className="secondary" onClick={() => retry.mutate({ jobId })} disabled={retry.isPending}>
              Retry
            </button>
          )}
        </div>
      </header>
      {(cancel.error ?? retry.error) && <p className="error">{(cancel.error ?? retry.error)!.message}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {result ? (
        <section aria-label="Result">
          <h3>Result{result.language && ` (${result.language})`}</h3>
          <pre className="code" data-testid="job-result">
            <code>{result.code}</code>
          </pre>
          <h3>Review: {REVIEW_LABELS[result.reviewStatus]}</h3>
          {notes.length > 0 && (
            <ul className="notes">
              {notes.map((note, i) => (
                <li key={i}>{note}</li>
              ))}
            </ul>
          )}
        </section>
      ) : (
        <section aria-label="Output">
          <h3>{active ? 'Generating…' : 'Output'}</h3>
          <pre className="code stream" data-testid="job-output" aria-live="polite" aria-busy={active}>
            {streamed || (status === 'queued' ? queueText(job.data.queue) : '')}
          </pre>
        </section>
      )}
    </article>
  );
}
