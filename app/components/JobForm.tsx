import { useMutation } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { describeRetry } from '~/lib/retry-time';
import { useTRPC } from '~/lib/trpc';
import { FormError } from './FormError';
import { Field } from './Field';

interface Props {
  projectId: string;
  /** What the team's tier can use now, as the catalogue describes it. */
  models: { name: string; description: string }[];
  onSubmitted: (jobId: string) => void;
}

export function JobForm({ projectId, models, onSubmitted }: Props) {
  const trpc = useTRPC();
  // One key per intended job: a double click or a retried request cannot start it twice.
  const [clientKey, setClientKey] = useState(() => crypto.randomUUID());
  const [requirements, setRequirements] = useState('');
  const [model, setModel] = useState(models[0]?.name ?? '');
  // The form submits through tRPC only; before hydration a click would send it as a GET, the
  // prompt in the URL.
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const submit = useMutation(
    trpc.jobs.submit.mutationOptions({
      onSuccess: (job) => {
        setRequirements('');
        setClientKey(crypto.randomUUID());
        onSubmitted(job.id);
      },
    }),
  );
  const errorData = submit.error?.data as { fieldErrors?: Record<string, string> | null; retryAt?: string | null } | undefined;
  const fieldErrors = errorData?.fieldErrors ?? {};
  const retryAt = errorData?.retryAt ? new Date(errorData.retryAt) : null;
  // A refusal by limit names it and, when known, when it frees (cap, token budget).
  const formError =
    submit.error && Object.keys(fieldErrors).length === 0
      ? [submit.error.message, retryAt && describeRetry(retryAt, new Date())].filter(Boolean).join(' ')
      : null;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    submit.mutate({
      projectId,
      clientKey,
      requirements,
      model: String(form.get('model') ?? '') || undefined,
      priority: form.get('priority') as 'low' | 'normal' | 'high',
    });
  }

  return (
    <form className="card stack" onSubmit={onSubmit} aria-label="New job">
      <h2>New code generation job</h2>
      <Field id="requirements" label="Requirements" error={fieldErrors.requirements}>
        {(aria) => (
          <textarea
            name="requirements"
            rows={4}
            value={requirements}
            onChange={(e) => setRequirements(e.target.value)}
            placeholder="A TypeScript function that parses ISO dates and returns the weekday"
            {...aria}
          />
        )}
      </Field>
      <div className="row">
        <Field id="model" label="Model" hint={models.find((m) => m.name === model)?.description} error={fieldErrors.model}>
          {(aria) => (
            <select name="model" value={model} onChange={(e) => setModel(e.target.value)} {...aria}>
              {models.map((m) => (
                <option key={m.name}>{m.name}</option>
              ))}
            </select>
          )}
        </Field>
        <label className="field">
          <span>Priority</span>
          <select name="priority" defaultValue="normal">
            <option value="low">Low</option>
            <option value="normal">Normal</option>
            <option value="high">High</option>
          </select>
        </label>
      </div>
      <FormError message={formError} />
      <button type="submit" disabled={!hydrated || submit.isPending}>
        {submit.isPending ? 'Submitting…' : 'Run job'}
      </button>
    </form>
  );
}
