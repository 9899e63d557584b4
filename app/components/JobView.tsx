import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { highlightCode } from '~/lib/highlight';
import { placeText } from '~/lib/queue-rows';
import { mergeStreamed } from '~/lib/stream-text';
import { useRoom } from '~/lib/socket';
import { useTRPC } from '~/lib/trpc';
import { StatusBadge } from './StatusBadge';

const ACTIVE = new Set(['queued', 'running']);
const RETRYABLE = new Set(['failed', 'dead_letter', 'cancelled']);

const REVIEW_LABELS: Record<string, string> = {
  passed: 'no issues found',
  issues: 'issues found',
  timed_out: 'timed out',
  skipped: 'skipped',
};

type Place = { position: number; etaMs: number | null; blocked: string | null };

const queueText = (place: Place | null, model: string) => (place ? placeText({ ...place, model }) : 'Waiting for a free model slot…');

function Code({ code, language }: { code: string; language: string }) {
  const { html } = useMemo(() => highlightCode(code, language), [code, language]);
  // highlight.js escapes every character of the code; the markup is only its token spans.
  return <code className="hljs" dangerouslySetInnerHTML={{ __html: html }} />;
}

/** `teamId`: the job's team, whose room carries the queue positions of its waiting jobs. */
export function JobView({ jobId, teamId }: { jobId: string; teamId: string }) {
  const trpc = useTRPC();
  // No polling: the job room says when the status changes, the team room where the job stands in
  // the queue, and every (re)join refetches what a dropped socket may have missed.
  // The row paints the panel at once; what only the workflows know (stage, place) follows on its
  // own, asked with a short deadline, and never holds the panel back.
  const job = useQuery(trpc.jobs.get.queryOptions({ jobId }));
  const active = job.data ? ACTIVE.has(job.data.status) : false;
  const live = useQuery({ ...trpc.jobs.live.queryOptions({ jobId }), enabled: active });
  // The pushed place, with the scheduler version it came with; the fetched one until the first event.
  const [pushed, setPushed] = useState<{ version: number; place: Place | null } | null>(null);
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
      'job:update': () => {
        void job.refetch();
        void live.refetch();
      },
    },
    () => void job.refetch(),
  );
  useRoom(
    { kind: 'team', id: teamId },
    {
      'queue:team': (event) => {
        if (event.teamId !== teamId) return;
        const entry = event.waiting.find((w) => w.jobId === jobId);
        setPushed((held) => (held && held.version > event.version ? held : { version: event.version, place: entry ?? null }));
      },
    },
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
  const progress = active ? live.data?.progress : null;
  const notes = (result?.review as { notes?: string[] } | null)?.notes ?? [];

  return (
    <article className="card stack job-view" aria-label="Job">
      <header className="row spread">
        <div className="job-view-title">
          <h2>{job.data.requirements}</h2>
          <p className="muted job-view-meta">
            {job.data.user.name}
            {job.data.apiKey && ` via API key ${job.data.apiKey.name}`} · {job.data.model}
            {job.data.servedModel && job.data.servedModel !== job.data.model && ` served as ${job.data.servedModel}`}
            {job.data.backendId && ` on ${job.data.backendId}`}
            {job.data.completionTokens > 0 && ` · ${job.data.completionTokens} tokens`}
            {progress && ` · ${progress.stage}`} ·{' '}
            <a href={job.data.temporalUrl} target="_blank" rel="noreferrer">
              workflow
            </a>
          </p>
        </div>
        <div className="row job-view-actions">
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
          {result.truncated && (
            <p className="warning" role="status">
              Cut at the output cap of {job.data.completionTokens} tokens: the model had not finished, so the answer may be incomplete.
            </p>
          )}
          <pre className="code" data-testid="job-result">
            <Code code={result.code} language={result.language} />
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
          <pre className="code stream" data-testid="job-output" data-streamed={streamed.length} aria-live="polite" aria-busy={active}>
            {streamed || (status === 'queued' ? queueText(pushed ? pushed.place : (live.data?.queue ?? null), job.data.model) : '')}
          </pre>
        </section>
      )}
    </article>
  );
}
