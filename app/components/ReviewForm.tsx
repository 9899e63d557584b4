import { useMutation } from '@tanstack/react-query';
import { useEffect, useState, type ChangeEvent, type FormEvent } from 'react';
import { readReviewFiles, type ReadFiles } from '~/lib/review-files';
import { ZipError } from '~/lib/zip';
import { describeRetry } from '~/lib/retry-time';
import { useTRPC } from '~/lib/trpc';
import { REVIEW_DEPTHS, REVIEW_LIMITS, type ReviewDepth } from '../../server/services/review-input';
import { Field } from './Field';
import { FormError } from './FormError';

type Source = 'code' | 'diff' | 'files';

interface Props {
  projectId: string;
  models: { name: string; description: string }[];
  onSubmitted: (jobId: string) => void;
}

/** A new code review: pasted code, a pasted diff, or a folder's files. */
export function ReviewForm({ projectId, models, onSubmitted }: Props) {
  const trpc = useTRPC();
  const [clientKey, setClientKey] = useState(() => crypto.randomUUID());
  const [source, setSource] = useState<Source>('files');
  const [text, setText] = useState('');
  const [path, setPath] = useState('');
  const [files, setFiles] = useState<ReadFiles | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const submit = useMutation(
    trpc.reviews.submit.mutationOptions({
      onSuccess: (job) => {
        setText('');
        setFiles(null);
        setClientKey(crypto.randomUUID());
        onSubmitted(job.id);
      },
    }),
  );
  const errorData = submit.error?.data as { fieldErrors?: Record<string, string> | null; retryAt?: string | null } | undefined;
  const retryAt = errorData?.retryAt ? new Date(errorData.retryAt) : null;
  const formError = readError ?? (submit.error ? [submit.error.message, retryAt && describeRetry(retryAt, new Date())].filter(Boolean).join(' ') : null);

  async function onFiles(event: ChangeEvent<HTMLInputElement>) {
    setReadError(null);
    try {
      setFiles(await readReviewFiles([...(event.target.files ?? [])]));
    } catch (error) {
      setFiles(null);
      setReadError(error instanceof ZipError ? error.message : 'The files could not be read.');
    }
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const chosen =
      source === 'code'
        ? { kind: 'code' as const, code: text, ...(path.trim() ? { path: path.trim() } : {}) }
        : source === 'diff'
          ? { kind: 'diff' as const, diff: text }
          : { kind: 'files' as const, files: files?.files ?? [] };
    submit.mutate({
      projectId,
      clientKey,
      source: chosen,
      depth: form.get('depth') as ReviewDepth,
      model: String(form.get('model') ?? '') || undefined,
      priority: 'normal',
    });
  }

  return (
    <form className="card stack" onSubmit={onSubmit} aria-label="New review">
      <h2>New code review</h2>
      <fieldset className="row">
        <legend className="visually-hidden">What to review</legend>
        {(['files', 'code', 'diff'] as const).map((kind) => (
          <label key={kind}>
            <input type="radio" name="source" value={kind} checked={source === kind} onChange={() => setSource(kind)} />{' '}
            {kind === 'files' ? 'Files or a folder' : kind === 'code' ? 'Pasted code' : 'Pasted diff'}
          </label>
        ))}
      </fieldset>
      {source === 'files' ? (
        <div className="stack">
          <label className="field">
            <span>A folder</span>
            {/* webkitdirectory: every browser the app supports reads a whole folder through it. */}
            <input type="file" name="folder" onChange={onFiles} {...{ webkitdirectory: '', directory: '' }} />
          </label>
          <label className="field">
            <span>Or files (a .zip of a repository is unpacked)</span>
            <input type="file" name="files" multiple onChange={onFiles} />
          </label>
          {files && (
            <p className="hint" role="status">
              {files.files.length} file{files.files.length === 1 ? '' : 's'} to review
              {files.skipped.length > 0 && ` · skipped ${files.skipped.length}: ${files.skipped.slice(0, 3).join('; ')}${files.skipped.length > 3 ? '…' : ''}`}
            </p>
          )}
          <p className="hint">
            Up to {REVIEW_LIMITS.maxFiles} text files, {REVIEW_LIMITS.maxTotalChars.toLocaleString('en-US')} characters in all; binary files and
            dependency folders are left out.
          </p>
        </div>
      ) : (
        <>
          {source === 'code' && (
            <label className="field">
              <span>File name (optional)</span>
              <input name="path" value={path} onChange={(e) => setPath(e.target.value)} placeholder="src/parse.ts" />
            </label>
          )}
          <Field id="review-text" label={source === 'code' ? 'Code' : 'Unified diff (git diff)'}>
            {(aria) => <textarea name="text" rows={6} value={text} onChange={(e) => setText(e.target.value)} className="mono" {...aria} />}
          </Field>
        </>
      )}
      <div className="row">
        <label className="field">
          <span>Depth</span>
          <select name="depth" defaultValue="standard">
            {REVIEW_DEPTHS.map((depth) => (
              <option key={depth} value={depth}>
                {depth[0]!.toUpperCase() + depth.slice(1)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Model</span>
          <select name="model" defaultValue={models[0]?.name}>
            {models.map((m) => (
              <option key={m.name}>{m.name}</option>
            ))}
          </select>
        </label>
      </div>
      <FormError message={formError} />
      <button type="submit" disabled={!hydrated || submit.isPending || (source === 'files' && !files?.files.length)}>
        {submit.isPending ? 'Submitting…' : 'Review'}
      </button>
    </form>
  );
}
