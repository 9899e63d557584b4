import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { highlightCode } from '~/lib/highlight';
import { languageOfPath, shownLines, type ShownLine } from '~/lib/review-lines';
import { useRoom } from '~/lib/socket';
import { useTRPC } from '~/lib/trpc';
import { useRefresh } from '~/lib/use-refresh';
import type { Finding } from '../../server/services/review-findings';
import { Markdown } from './Markdown';

const SEVERITY_LABELS = { critical: 'Critical', major: 'Major', minor: 'Minor', info: 'Info' } as const;

/** A code review's files, its progress as items finish, and the findings of the file opened. */
export function ReviewView({ jobId, status }: { jobId: string; status: string }) {
  const active = status === 'queued' || status === 'running';
  const trpc = useTRPC();
  const files = useQuery(trpc.reviews.files.queryOptions({ jobId }));
  const refresh = useRefresh(() => files.refetch());
  const [open, setOpen] = useState<string | null>(null);
  const [pushed, setPushed] = useState<{ reviewed: number; total: number } | null>(null);
  useRoom(
    { kind: 'job', id: jobId },
    {
      'review:progress': (event) => {
        if (event.jobId !== jobId) return;
        setPushed((held) => (held && held.reviewed >= event.reviewed ? held : { reviewed: event.reviewed, total: event.total }));
        refresh();
      },
    },
    refresh,
  );
  // The review's end (or cancel) may come after its last progress event was missed.
  useEffect(refresh, [status, refresh]);

  if (!files.data) return <p aria-busy="true">Loading the review…</p>;
  const reviewed = Math.max(files.data.reviewed, pushed?.reviewed ?? 0);
  const total = files.data.total;
  return (
    <section aria-label="Review" className="stack">
      <p role="status" data-testid="review-progress">
        {reviewed} of {total} {files.data.source === 'files' ? 'files and chunks' : 'parts'} reviewed
        {active && reviewed < total && '…'}
      </p>
      <progress max={total} value={reviewed} />
      <ul className="review-files" aria-label="Reviewed files">
        {files.data.files.map((file) => {
          const count = file.counts.critical + file.counts.major + file.counts.minor + file.counts.info;
          return (
            <li key={file.path}>
              <button type="button" className="review-file" aria-current={open === file.path} onClick={() => setOpen(file.path)}>
                <span className="review-path">{file.path}</span>
                <span className="muted">
                  {file.reviewed < file.chunks ? 'waiting' : file.failed > 0 ? 'not reviewed' : `${count} finding${count === 1 ? '' : 's'}`}
                </span>
              </button>
            </li>
          );
        })}
      </ul>
      {open && <ReviewFile jobId={jobId} path={open} />}
    </section>
  );
}

function ReviewFile({ jobId, path }: { jobId: string; path: string }) {
  const trpc = useTRPC();
  const file = useQuery(trpc.reviews.file.queryOptions({ jobId, path }));
  const lines = useMemo(
    () =>
      file.data
        ? shownLines(
            file.data.chunks.map((chunk) => ({ startLine: chunk.startLine, content: chunk.content, findings: chunk.findings?.findings ?? [] })),
            file.data.source === 'diff',
          )
        : [],
    [file.data],
  );
  if (!file.data) return <p aria-busy="true">Loading {path}…</p>;
  const unparsed = file.data.chunks.filter((chunk) => chunk.findings && !chunk.findings.parsed && chunk.answer);
  const language = languageOfPath(path);
  return (
    <article aria-label={`Findings in ${path}`} className="stack">
      <h3>{path}</h3>
      {file.data.chunks.map((chunk) => chunk.error && <p key={chunk.chunk} className="error">{chunk.error}</p>)}
      {unparsed.map((chunk) => (
        <div key={chunk.chunk} className="warning">
          <p>The reviewer did not answer in the findings format; its answer:</p>
          <Markdown text={chunk.answer} />
        </div>
      ))}
      <div className="review-code" role="table" aria-label={`Code of ${path}`}>
        {lines.map((line, i) => (
          <Line key={i} line={line} language={language} />
        ))}
      </div>
    </article>
  );
}

function Line({ line, language }: { line: ShownLine; language: string }) {
  // Each line highlighted on its own (a multi-line comment loses its colour past its first
  // line); highlight.js escapes every character, the markup is only its token spans.
  const html = useMemo(() => (language && line.kind !== '@' ? highlightCode(line.text, language).html : null), [line, language]);
  return (
    <>
      <div role="row" className={`review-line review-line-${line.kind === '+' ? 'added' : line.kind === '-' ? 'removed' : line.kind === '@' ? 'hunk' : 'same'}`} data-line={line.number ?? undefined}>
        <span role="cell" className="review-number">
          {line.number ?? ''}
        </span>
        <span role="cell" className="review-mark">
          {line.kind === ' ' || line.kind === '@' ? '' : line.kind}
        </span>
        {html !== null ? <code role="cell" className="hljs" dangerouslySetInnerHTML={{ __html: html }} /> : <code role="cell">{line.text}</code>}
      </div>
      {line.findings.map((finding, j) => (
        <FindingNote key={j} finding={finding} />
      ))}
    </>
  );
}

function FindingNote({ finding }: { finding: Finding }) {
  return (
    <div role="row" className={`finding finding-${finding.severity}`} data-testid="finding">
      <p>
        <strong>{SEVERITY_LABELS[finding.severity]}</strong> · line {finding.line === finding.endLine ? finding.line : `${finding.line}–${finding.endLine}`}
      </p>
      <Markdown text={finding.message} />
      {finding.suggestion && (
        <details>
          <summary>Suggested change</summary>
          <Markdown text={`\`\`\`\n${finding.suggestion}\n\`\`\``} />
        </details>
      )}
    </div>
  );
}
