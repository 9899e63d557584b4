import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { describeSubmitError } from '~/lib/retry-time';
import { useTRPC } from '~/lib/trpc';
import { Field } from './Field';
import { FormError } from './FormError';

interface Props {
  projectId: string;
  teamId: string;
  onSubmitted: (jobId: string) => void;
}

/** A new collaboration: the task and the template of agents that work on it (the built-in one first). */
export function CollaborationForm({ projectId, teamId, onSubmitted }: Props) {
  const trpc = useTRPC();
  const templates = useQuery(trpc.collaborations.templates.queryOptions({ teamId }));
  // One key per intended collaboration: a double click cannot start it twice.
  const [clientKey, setClientKey] = useState(() => crypto.randomUUID());
  const [task, setTask] = useState('');
  // '' is the built-in template.
  const [templateId, setTemplateId] = useState('');
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const submit = useMutation(
    trpc.jobs.submitCollaboration.mutationOptions({
      onSuccess: (job) => {
        setTask('');
        setClientKey(crypto.randomUUID());
        onSubmitted(job.id);
      },
    }),
  );
  const { fieldErrors, formError } = describeSubmitError(submit.error);
  // A refusal about the template's steps (a model the tier no longer allows) has no field here.
  const shownField = fieldErrors.task ?? fieldErrors.requirements ?? fieldErrors.templateId;
  const message = formError ?? (shownField ? null : (submit.error?.message ?? null));
  const chosen = templateId ? templates.data?.templates.find((t) => t.id === templateId) : templates.data?.builtIn;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    submit.mutate({ projectId, clientKey, task, templateId: templateId || null });
  }

  return (
    <form className="card stack" onSubmit={onSubmit} aria-label="New collaboration">
      <h2>New collaboration</h2>
      <Field id="collab-task" label="Task" error={fieldErrors.task ?? fieldErrors.requirements}>
        {(aria) => (
          <textarea
            name="task"
            rows={4}
            value={task}
            onChange={(e) => setTask(e.target.value)}
            placeholder="A small web app to book meeting rooms, with its API and its UI"
            {...aria}
          />
        )}
      </Field>
      <Field
        id="collab-template"
        label="Template"
        hint={chosen && `${chosen.agents.map((a) => a.role).join(', ')}, then ${chosen.integrator.role} and ${chosen.reviewer.role}${chosen.approval ? '; waits for approval' : ''}`}
        error={fieldErrors.templateId}
      >
        {(aria) => (
          <select name="template" value={templateId} onChange={(e) => setTemplateId(e.target.value)} {...aria}>
            <option value="">{templates.data?.builtIn.name ?? 'Built-in'} (default)</option>
            {templates.data?.templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <FormError message={message} />
      <button type="submit" disabled={!hydrated || submit.isPending}>
        {submit.isPending ? 'Submitting…' : 'Start collaboration'}
      </button>
    </form>
  );
}
