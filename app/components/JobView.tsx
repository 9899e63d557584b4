import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { placeText } from '~/lib/queue-rows';
import { useRoom } from '~/lib/socket';
import { useTRPC } from '~/lib/trpc';
import { useRefresh } from '~/lib/use-refresh';
import { useStreamText } from '~/lib/use-stream-text';
import { Code } from './Code';
import { Markdown } from './Markdown';
import type { JobProgressEvent } from '../../server/realtime/events';
import type { ChargedPart, JobCharges } from '../../server/services/usage-ledger';
import { JobProgressLine } from './JobProgressLine';
import { ReviewView } from './ReviewView';
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
  // The stored output is the truth; pushed pieces extend it. A gap asks for the stored copy
  // without cancelling a fetch under way: on a slow server, pieces arrive faster than answers.
  const stream = useStreamText(job.data?.output, job.dataUpdatedAt, () => void job.refetch({ cancelRefetch: false }));
  const streamed = stream.text;
  // The pushed place, with the scheduler version it came with; the fetched one until the first event.
  const [pushed, setPushed] = useState<{ version: number; place: Place | null } | null>(null);
  // Pushed by the activities as the job moves on; the newest by their clock wins.
  const [pushedProgress, setPushedProgress] = useState<JobProgressEvent | null>(null);
  const refresh = useRefresh(() => job.refetch());
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions({ onSuccess: refresh }));
  const retry = useMutation(
    trpc.jobs.retry.mutationOptions({
      onSuccess: () => {
        stream.reset();
        setPushedProgress(null);
        refresh();
      },
    }),
  );

  useRoom(
    { kind: 'job', id: jobId },
    {
      'job:tokens': stream.receive,
      'job:update': () => {
        refresh();
        void live.refetch();
      },
      'job:progress': (event) => {
        if (event.jobId !== jobId) return;
        setPushedProgress((held) => (held && held.at > event.at ? held : event));
      },
    },
    refresh,
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
  const progress = active ? (pushedProgress ?? live.data?.progress ?? null) : null;
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
            {job.data.costUsd > 0 && ` · $${job.data.costUsd.toFixed(4)}`}
            {job.data.charged.requests > 0 && (
              <>
                {' · '}
                <span className="job-view-charged" title={chargedBreakdown(job.data.charged)}>
                  charged {job.data.charged.tokens} tokens, ${job.data.charged.costUsd.toFixed(4)}
                </span>
              </>
            )}
            {' · '}
            <a href={job.data.temporalUrl} target="_blank" rel="noreferrer">
              workflow
            </a>
          </p>
          {active && <JobProgressLine progress={progress} />}
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
      {job.data.kind === 'code_review' ? (
        <>
          {job.data.output && <Markdown text={job.data.output} className="review-summary" />}
          <ReviewView jobId={jobId} status={status} />
        </>
      ) : result ? (
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
                <li key={i}>
                  <Markdown text={note} />
                </li>
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

/** The hover text of what a job was charged: its generation attempts and its review apart. */
function chargedBreakdown(charged: JobCharges): string {
  const part = (label: string, p: ChargedPart | undefined) => p && `${label}: ${p.tokens} tokens, $${p.costUsd.toFixed(4)}`;
  const attempts = charged.byKind.generation;
  return [
    part(attempts && attempts.requests === 1 ? '1 attempt' : `${attempts?.requests ?? 0} attempts`, attempts),
    part('review', charged.byKind.review),
    part('chat', charged.byKind.chat),
  ]
    .filter(Boolean)
    .join('\n');
}
