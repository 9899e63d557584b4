import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTRPC } from '~/lib/trpc';
import { JobEntry } from './JobEntry';

const PAGE = 10;

/** The project's finished work, newest first: each completed job opens with its result. */
export function ResultHistory({ projectId, selectedJobId }: { projectId: string; selectedJobId: string | null }) {
  const trpc = useTRPC();
  const [limit, setLimit] = useState(PAGE);
  const results = useQuery({
    ...trpc.jobs.list.queryOptions({ projectId, status: 'completed', limit }),
    placeholderData: (previous) => previous,
  });

  return (
    <section className="card" aria-labelledby="results-heading">
      <h2 id="results-heading">Results</h2>
      {results.isPending ? (
        <p className="muted" aria-busy="true">Loading results…</p>
      ) : results.isError ? (
        <p className="error" role="alert">
          The results could not be loaded: {results.error.message}
        </p>
      ) : results.data.items.length === 0 ? (
        <p className="empty">No finished results yet.</p>
      ) : (
        <>
          <ul className="job-list">
            {results.data.items.map((job) => (
              <li key={job.id}>
                <JobEntry jobId={job.id} selected={job.id === selectedJobId} title={job.requirements}>
                  {job.user.name} · {job.model} · {job.completionTokens} tokens ·{' '}
                  <time dateTime={new Date(job.finishedAt ?? job.createdAt).toISOString()}>{new Date(job.finishedAt ?? job.createdAt).toLocaleString()}</time>
                </JobEntry>
              </li>
            ))}
          </ul>
          {results.data.nextCursor && (
            <button type="button" className="link" onClick={() => setLimit((n) => Math.min(100, n + PAGE))} disabled={results.isFetching || limit >= 100}>
              Show older results
            </button>
          )}
        </>
      )}
    </section>
  );
}
