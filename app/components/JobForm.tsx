import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { describeSubmitError } from '~/lib/retry-time';
import { useTRPC } from '~/lib/trpc';
import { FormError } from './FormError';
import { Field } from './Field';

interface Props {
  projectId: string;
  /** The project's team: its budget is shown. */
  teamId: string;
  /** What the team's tier can use now, as the catalogue describes it. */
  models: { name: string; description: string }[];
  onSubmitted: (jobId: string) => void;
}

/** How often the budget line is read again: jobs of teammates spend it too. */
const BUDGET_REFRESH_MS = 30_000;

export function JobForm({ projectId, teamId, models, onSubmitted }: Props) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const budget = useQuery({ ...trpc.usage.budget.queryOptions({ teamId }), refetchInterval: BUDGET_REFRESH_MS });
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
        void queryClient.invalidateQueries(trpc.usage.budget.pathFilter());
        onSubmitted(job.id);
      },
    }),
  );
  const { fieldErrors, formError } = describeSubmitError(submit.error);

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    submit.mutate({
      projectId,
      clientKey,
      requirements,
      model: String(form.get('model') ?? '') || undefined,
      priority: form.get('priority') as 'low' | 'normal' | 'high',
      simple: form.get('simple') === 'on',
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
      <label className="checkbox" title="Short jobs of one model may be sent to a backend together when the team's tier batches: they share a model load and may wait up to the tier's batch timeout for company.">
        <input type="checkbox" name="simple" />
        Simple job (may be batched with others of its model)
      </label>
      <FormError message={formError} />
      {budget.data && <BudgetLine {...budget.data} />}
      <button type="submit" disabled={!hydrated || submit.isPending}>
        {submit.isPending ? 'Submitting…' : 'Run job'}
      </button>
    </form>
  );
}

/** What is left of the team's token budget this period, and when it resets (local time). */
function BudgetLine({ left, limit, period, resetsAt }: { left: number; limit: number; period: string; resetsAt: Date }) {
  const n = (value: number) => value.toLocaleString('en-US');
  return (
    <p className="muted" data-testid="budget-left">
      Team budget: {n(left)} of {n(limit)} tokens left (per {period}); resets {new Date(resetsAt).toLocaleString()}.
    </p>
  );
}
