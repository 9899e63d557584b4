import { useMutation, useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { placeText } from '~/lib/queue-rows';
import { useRoom } from '~/lib/socket';
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../../server/trpc/root';
import { useTRPC } from '~/lib/trpc';
import { useRefresh } from '~/lib/use-refresh';
import { useStreamText } from '~/lib/use-stream-text';
import { Code } from './Code';
import { StatusBadge } from './StatusBadge';

type Collaboration = inferRouterOutputs<AppRouter>['collaborations']['get'];
type Step = Collaboration['steps'][number];
type Place = { position: number; etaMs: number | null; blocked: string | null };

const ACTIVE = new Set(['queued', 'running']);

const duration = (from: Date | string | null, to: Date | string | null) => {
  if (!from) return null;
  const ms = (to ? new Date(to).getTime() : Date.now()) - new Date(from).getTime();
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
};

/**
 * A collaboration job as a tree: its agents, the integration and the review, each with its state,
 * place in the queue, streamed text, timings and backend, following the rooms (no polling); the
 * approval controls for those who may decide; once done, every output side by side.
 */
export function CollaborationView({ jobId, teamId, projectId }: { jobId: string; teamId: string; projectId: string }) {
  const trpc = useTRPC();
  const tree = useQuery(trpc.collaborations.get.queryOptions({ jobId }));
  const [places, setPlaces] = useState<{ version: number; byJob: Map<string, Place> } | null>(null);
  // Every change refetches the tree without cancelling a fetch under way (see useRefresh).
  const refresh = useRefresh(() => tree.refetch());
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions({ onSuccess: refresh }));
  const stepIds = useMemo(() => new Set(tree.data?.steps.map((s) => s.id) ?? []), [tree.data]);

  useRoom({ kind: 'job', id: jobId }, { 'job:update': (event) => event.jobId === jobId && refresh() }, refresh);
  // The steps' changes of state reach the project's room.
  useRoom({ kind: 'project', id: projectId }, { 'job:update': (event) => stepIds.has(event.jobId) && refresh() });
  useRoom(
    { kind: 'team', id: teamId },
    {
      'queue:team': (event) => {
        if (event.teamId !== teamId) return;
        setPlaces((held) => (held && held.version > event.version ? held : { version: event.version, byJob: new Map(event.waiting.map((w) => [w.jobId, w])) }));
      },
    },
  );

  if (tree.isPending) return <div className="card" aria-busy="true">Loading collaboration…</div>;
  if (tree.isError) {
    return (
      <div className="card" role="alert">
        <p className="error">{tree.error.message}</p>
      </div>
    );
  }
  const job = tree.data;
  const active = ACTIVE.has(job.status);
  const agents = job.steps.filter((s) => s.part?.startsWith('agent-'));
  const later = job.steps.filter((s) => !s.part?.startsWith('agent-'));

  return (
    <article className="card stack job-view collaboration" aria-label="Collaboration">
      <header className="row spread">
        <div className="job-view-title">
          <h2>{job.requirements}</h2>
          <p className="muted job-view-meta">
            {job.user.name} · collaboration of {job.steps.length} steps
            {job.completionTokens > 0 && ` · ${job.completionTokens} tokens · $${job.costUsd.toFixed(4)}`} ·{' '}
            <a href={job.temporalUrl} target="_blank" rel="noreferrer">
              workflow
            </a>
          </p>
        </div>
        <div className="row job-view-actions">
          <StatusBadge status={job.status} />
          {active && (
            <button type="button" className="secondary" onClick={() => cancel.mutate({ jobId })} disabled={cancel.isPending}>
              Cancel
            </button>
          )}
        </div>
      </header>
      {cancel.error && <p className="error">{cancel.error.message}</p>}
      {job.error && (
        <p className="error" role="alert">
          {job.error}
        </p>
      )}
      <Approval job={job} onDecided={refresh} />
      <ol className="collab-tree" aria-label="Steps">
        <li>
          <span className="collab-phase">Agents, in parallel</span>
          <ol>
            {agents.map((step) => (
              <StepNode key={step.id} step={step} place={places?.byJob.get(step.id) ?? null} fetched={tree.dataUpdatedAt} refresh={refresh} />
            ))}
          </ol>
        </li>
        {later.map((step) => (
          <StepNode key={step.id} step={step} place={places?.byJob.get(step.id) ?? null} fetched={tree.dataUpdatedAt} refresh={refresh} />
        ))}
      </ol>
      {job.status === 'completed' && <SideBySide steps={job.steps} />}
    </article>
  );
}

/** `fetched`: when the tree was fetched; `refresh` fetches it again without cancelling a fetch under way. */
function StepNode({ step, place, fetched, refresh }: { step: Step; place: Place | null; fetched: number; refresh: () => void }) {
  const active = ACTIVE.has(step.status);
  const { text: streamed, receive } = useStreamText(step.output, fetched, refresh);
  useRoom(
    active ? { kind: 'job', id: step.id } : null,
    { 'job:tokens': (event) => event.jobId === step.id && receive(event) },
    // The step streamed before this page joined its room: its stored output catches the page up.
    refresh,
  );
  const took = duration(step.startedAt, step.finishedAt);
  return (
    <li className="collab-step" data-part={step.part} data-status={step.status} aria-label={step.role ?? step.part ?? 'step'}>
      <div className="row spread">
        <strong>{step.role}</strong>
        <StatusBadge status={step.status} />
      </div>
      <p className="muted job-view-meta">
        {step.model}
        {step.backendId && ` on ${step.backendId}`}
        {took && ` · ${took}`}
        {step.completionTokens > 0 && ` · ${step.completionTokens} tokens`} ·{' '}
        <a href={step.temporalUrl} target="_blank" rel="noreferrer">
          workflow
        </a>
      </p>
      {/* Fixed heights: a place, an error or tokens arriving never move the steps below. */}
      <p className="muted collab-step-line" data-testid={`step-place-${step.part}`}>
        {step.error ? <span className="error">{step.error}</span> : step.status === 'queued' && place ? placeText({ ...place, model: step.model }) : ''}
      </p>
      <pre className="code collab-stream" data-testid={`step-output-${step.part}`} aria-busy={active}>
        {streamed}
      </pre>
    </li>
  );
}

function Approval({ job, onDecided }: { job: Collaboration; onDecided: () => void }) {
  const trpc = useTRPC();
  const [edits, setEdits] = useState<Record<string, string>>({});
  const decide = useMutation(trpc.collaborations.decide.mutationOptions({ onSuccess: onDecided }));
  const approval = job.approval;
  if (!approval) return null;
  const names = approval.approvers.map((a) => a.name).join(' or ');
  if (approval.state !== 'waiting') {
    const how = { approved: 'Approved', rejected: 'Rejected', timed_out: 'Nobody decided in time' }[approval.state];
    return (
      <p className="muted" role="status" data-testid="approval">
        {how}
        {approval.decidedBy && ` by ${approval.decidedBy.name}`}
        {approval.editedParts && approval.editedParts.length > 0 && `, with ${approval.editedParts.length} output(s) edited`}.
      </p>
    );
  }
  const agents = job.steps.filter((s) => s.part?.startsWith('agent-') && s.status === 'completed');
  return (
    <section className="stack approval" aria-label="Approval" data-testid="approval">
      <p role="status">
        Waiting for approval from {names} (until {new Date(approval.deadline).toLocaleTimeString()}, then{' '}
        {approval.onTimeout === 'proceed' ? 'it goes on' : 'it is cancelled'}).
      </p>
      {job.canDecide && (
        <>
          {agents.map((step) => (
            <details key={step.id}>
              <summary>Edit the {step.role}’s output</summary>
              <textarea
                aria-label={`${step.role} output`}
                rows={8}
                value={edits[step.part!] ?? step.output}
                onChange={(event) => setEdits((all) => ({ ...all, [step.part!]: event.target.value }))}
              />
            </details>
          ))}
          <div className="row">
            <button
              type="button"
              disabled={decide.isPending}
              onClick={() =>
                decide.mutate({
                  jobId: job.id,
                  action: 'approve',
                  edits: Object.entries(edits).map(([part, text]) => ({ part, text })),
                })
              }
            >
              Approve
            </button>
            <button type="button" className="secondary" disabled={decide.isPending} onClick={() => decide.mutate({ jobId: job.id, action: 'reject', edits: [] })}>
              Reject
            </button>
          </div>
          {decide.error && <p className="error">{decide.error.message}</p>}
        </>
      )}
    </section>
  );
}

function SideBySide({ steps }: { steps: Step[] }) {
  const shown = steps.filter((s) => s.status === 'completed');
  return (
    <section aria-label="Outputs side by side" className="collab-columns">
      {shown.map((step) => (
        <Output key={step.id} step={step} />
      ))}
    </section>
  );
}

function Output({ step }: { step: Step }) {
  const download = () => {
    const url = URL.createObjectURL(new Blob([step.output], { type: 'text/markdown' }));
    const link = Object.assign(document.createElement('a'), { href: url, download: `${(step.role ?? step.part ?? 'step').replace(/\W+/g, '-')}.md` });
    link.click();
    URL.revokeObjectURL(url);
  };
  return (
    <div className="stack collab-output" data-testid={`final-${step.part}`}>
      <div className="row spread">
        <h3>{step.role}</h3>
        <div className="row">
          <button type="button" className="secondary" onClick={() => void navigator.clipboard.writeText(step.output)}>
            Copy
          </button>
          <button type="button" className="secondary" onClick={download}>
            Download
          </button>
        </div>
      </div>
      <pre className="code">
        <Code code={step.output} language="" />
      </pre>
    </div>
  );
}
