import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { mergeStreamed } from '~/lib/stream-text';
import { useRoom } from '~/lib/socket';
import { useTRPC } from '~/lib/trpc';
import { StatusBadge } from './StatusBadge';

const ACTIVE = new Set(['queued', 'running']);

export function JobView({ jobId }: { jobId: string }) {
  const trpc = useTRPC();
  const job = useQuery(trpc.jobs.get.queryOptions({ jobId }));
  const [streamed, setStreamed] = useState('');
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions({ onSuccess: () => void job.refetch() }));

  // The stored output is the truth; streamed pieces extend it until the next refetch.
  useEffect(() => {
    if (job.data) setStreamed((s) => (job.data.output.length >= s.length ? job.data.output : s));
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
  const { status, result, error } = job.data;
  const active = ACTIVE.has(status);

  return (
    <article className="card stack job-view" aria-label="Job">
      <header className="row spread">
        <div>
          <h2>{job.data.requirements}</h2>
          <p className="muted">
            {job.data.user.name} · {job.data.model}
            {job.data.backendId && ` on ${job.data.backendId}`}
            {job.data.completionTokens > 0 && ` · ${job.data.completionTokens} tokens`}
          </p>
        </div>
        <div className="row">
          <StatusBadge status={status} />
          {active && (
            <button type="button" className="secondary" onClick={() => cancel.mutate({ jobId })} disabled={cancel.isPending}>
              Cancel
            </button>
          )}
        </div>
      </header>
      {cancel.error && <p className="error">{cancel.error.message}</p>}
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
        </section>
      ) : (
        <section aria-label="Output">
          <h3>{active ? 'Generating…' : 'Output'}</h3>
          <pre className="code stream" data-testid="job-output" aria-live="polite" aria-busy={active}>
            {streamed || (status === 'queued' ? 'Waiting for a free model slot…' : '')}
          </pre>
        </section>
      )}
    </article>
  );
}
