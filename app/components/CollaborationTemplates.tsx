import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { MAX_AGENTS, STEP_PRIORITIES, type Step, type TemplateInput } from '../../server/services/collaboration-template';
import { describeSubmitError } from '~/lib/retry-time';
import { useTRPC } from '~/lib/trpc';
import { Field } from './Field';
import { FormError } from './FormError';

type Draft = Required<Omit<TemplateInput, 'agents' | 'integrator' | 'reviewer'>> & { agents: Step[]; integrator: Step; reviewer: Step };
type Editing = { templateId: string | null; draft: Draft };

/**
 * A team's collaboration templates (docs/collaboration.md): every member sees them; owners
 * create, edit and delete them. Refusals come back from the server beside the field they are
 * about (`template.agents.1.model`), nothing saved.
 */
export function CollaborationTemplates({ teamId }: { teamId: string }) {
  const trpc = useTRPC();
  const list = useQuery(trpc.collaborations.templates.queryOptions({ teamId }));
  const [editing, setEditing] = useState<Editing | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const remove = useMutation(
    trpc.collaborations.deleteTemplate.mutationOptions({
      onSuccess: () => {
        setNotice('Template deleted.');
        void list.refetch();
      },
    }),
  );
  const data = list.data;
  const models = data?.models ?? [];

  const blank = (): Draft => {
    const model = models[0] ?? data?.builtIn.integrator.model ?? '';
    const built = data!.builtIn;
    return { ...built, name: '', agents: built.agents.map((a) => ({ ...a, model })), integrator: { ...built.integrator, model }, reviewer: { ...built.reviewer, model }, fallbackModel: null } as Draft;
  };

  return (
    <section className="card stack" aria-labelledby="templates-heading">
      <h2 id="templates-heading">Collaboration templates</h2>
      <p className="muted">Agents that work on a collaboration in parallel, then an integration and a review. Every team also has the built-in one.</p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {data && data.templates.length === 0 && <p className="empty">No templates of the team’s own yet.</p>}
      <ul className="plain-list">
        {data?.templates.map((t) => (
          <li key={t.id} className="row spread" data-testid="template-row">
            <span>
              <strong>{t.name}</strong>
              <span className="muted">
                {' '}
                — {t.agents.map((a) => a.role).join(', ')}
                {t.approval ? '; waits for approval' : ''}
              </span>
            </span>
            {data.canEdit && (
              <span className="row">
                <button type="button" className="secondary" aria-label={`Edit ${t.name}`} onClick={() => (setNotice(null), setEditing({ templateId: t.id, draft: { ...t, fallbackModel: t.fallbackModel ?? null } }))}>
                  Edit
                </button>
                <button
                  type="button"
                  className="danger"
                  aria-label={`Delete ${t.name}`}
                  disabled={remove.isPending}
                  onClick={() => {
                    if (window.confirm(`Delete the template ${t.name}? Collaborations already started keep their copy.`)) remove.mutate({ templateId: t.id });
                  }}
                >
                  Delete
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      <FormError message={remove.error?.message} />
      {data?.canEdit && !editing && (
        <button type="button" className="secondary" onClick={() => (setNotice(null), setEditing({ templateId: null, draft: blank() }))}>
          New template
        </button>
      )}
      {editing && (
        <TemplateForm
          key={editing.templateId ?? 'new'}
          teamId={teamId}
          editing={editing}
          models={models}
          onCancel={() => setEditing(null)}
          onSaved={(name) => {
            setEditing(null);
            setNotice(`Template “${name}” saved.`);
            void list.refetch();
          }}
        />
      )}
    </section>
  );
}

interface FormProps {
  teamId: string;
  editing: Editing;
  /** The models the team's tier may use. */
  models: string[];
  onCancel: () => void;
  onSaved: (name: string) => void;
}

function TemplateForm({ teamId, editing, models, onCancel, onSaved }: FormProps) {
  const trpc = useTRPC();
  const [draft, setDraft] = useState<Draft>(editing.draft);
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  const save = useMutation(trpc.collaborations.saveTemplate.mutationOptions({ onSuccess: () => onSaved(draft.name) }));
  const { fieldErrors, formError } = describeSubmitError(save.error);
  const error = (path: string) => fieldErrors[`template.${path}`];
  const set = (change: Partial<Draft>) => setDraft((d) => ({ ...d, ...change }));

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    // Settings hidden by the choices above are sent as they were, valid, so no refusal lands on a hidden field.
    const timeout = draft.approval || Number.isInteger(draft.approvalTimeoutSeconds) ? draft.approvalTimeoutSeconds : editing.draft.approvalTimeoutSeconds;
    save.mutate({
      teamId,
      templateId: editing.templateId,
      template: { ...draft, approvalTimeoutSeconds: timeout, fallbackModel: draft.failurePolicy === 'retry_other_model' ? draft.fallbackModel : null },
    });
  }

  // A model the tier no longer offers stays choosable, so the refusal lands beside it.
  const modelChoices = (current: string) => (current && !models.includes(current) ? [current, ...models] : models);

  const stepFields = (path: string, label: string, step: Step, change: (step: Step) => void) => {
    const id = `tpl-${path.replaceAll('.', '-')}`;
    return (
      <fieldset className="stack" aria-label={label}>
        <legend>{label}</legend>
        <Field id={`${id}-role`} label="Role" error={error(`${path}.role`)}>
          {(aria) => <input value={step.role} maxLength={60} onChange={(e) => change({ ...step, role: e.target.value })} {...aria} />}
        </Field>
        <Field id={`${id}-prompt`} label="System prompt" error={error(`${path}.systemPrompt`)}>
          {(aria) => <textarea rows={3} value={step.systemPrompt} onChange={(e) => change({ ...step, systemPrompt: e.target.value })} {...aria} />}
        </Field>
        <div className="row">
          <Field id={`${id}-model`} label="Model" hint="Models the team’s tier may use." error={error(`${path}.model`)}>
            {(aria) => (
              <select value={step.model} onChange={(e) => change({ ...step, model: e.target.value })} {...aria}>
                {modelChoices(step.model).map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id={`${id}-priority`} label="Priority" error={error(`${path}.priority`)}>
            {(aria) => (
              <select value={step.priority} onChange={(e) => change({ ...step, priority: e.target.value as Step['priority'] })} {...aria}>
                {STEP_PRIORITIES.map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
      </fieldset>
    );
  };

  return (
    <form className="stack" onSubmit={onSubmit} aria-label={editing.templateId ? `Edit template ${editing.draft.name}` : 'New template'} noValidate>
      <h3>{editing.templateId ? `Edit ${editing.draft.name}` : 'New template'}</h3>
      <Field id="tpl-name" label="Name" error={error('name')}>
        {(aria) => <input value={draft.name} maxLength={80} onChange={(e) => set({ name: e.target.value })} {...aria} />}
      </Field>
      {draft.agents.map((agent, i) => (
        <div key={i} className="stack">
          {stepFields(`agents.${i}`, `Agent ${i + 1}`, agent, (step) => set({ agents: draft.agents.map((a, j) => (j === i ? step : a)) }))}
          {draft.agents.length > 1 && (
            <button type="button" className="secondary" onClick={() => set({ agents: draft.agents.filter((_, j) => j !== i) })}>
              Remove agent {i + 1}
            </button>
          )}
        </div>
      ))}
      {error('agents') && (
        <p className="error" role="alert">
          {error('agents')}
        </p>
      )}
      {draft.agents.length < MAX_AGENTS && (
        <button
          type="button"
          className="secondary"
          onClick={() => set({ agents: [...draft.agents, { role: '', systemPrompt: '', model: draft.agents[0]?.model ?? models[0] ?? '', priority: 'normal' }] })}
        >
          Add an agent
        </button>
      )}
      {stepFields('integrator', 'Integration', draft.integrator, (integrator) => set({ integrator }))}
      {stepFields('reviewer', 'Review', draft.reviewer, (reviewer) => set({ reviewer }))}
      <fieldset className="stack">
        <legend>When a step fails</legend>
        <Field id="tpl-failure" label="Failure policy" error={error('failurePolicy')}>
          {(aria) => (
            <select value={draft.failurePolicy} onChange={(e) => set({ failurePolicy: e.target.value as Draft['failurePolicy'] })} {...aria}>
              <option value="proceed">Go on without it, naming what is missing</option>
              <option value="retry_other_model">Run it again on another model</option>
            </select>
          )}
        </Field>
        {draft.failurePolicy === 'retry_other_model' && (
          <Field id="tpl-fallback" label="Fallback model" error={error('fallbackModel')}>
            {(aria) => (
              <select value={draft.fallbackModel ?? ''} onChange={(e) => set({ fallbackModel: e.target.value || null })} {...aria}>
                <option value="">Choose a model</option>
                {modelChoices(draft.fallbackModel ?? '').map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
      </fieldset>
      <fieldset className="stack">
        <legend>Approval</legend>
        <label className="checkbox">
          <input type="checkbox" checked={draft.approval} onChange={(e) => set({ approval: e.target.checked })} />
          Wait for the author or an owner to approve the agents’ work before the integration
        </label>
        {draft.approval && (
          <div className="row">
            <Field id="tpl-timeout" label="Wait at most (seconds)" hint="1 second to 7 days (604,800)." error={error('approvalTimeoutSeconds')}>
              {(aria) => (
                <input
                  type="number"
                  inputMode="numeric"
                  value={Number.isNaN(draft.approvalTimeoutSeconds) ? '' : draft.approvalTimeoutSeconds}
                  onChange={(e) => set({ approvalTimeoutSeconds: e.target.value === '' ? Number.NaN : Number(e.target.value) })}
                  {...aria}
                />
              )}
            </Field>
            <Field id="tpl-timeout-action" label="Then" error={error('approvalTimeoutAction')}>
              {(aria) => (
                <select value={draft.approvalTimeoutAction} onChange={(e) => set({ approvalTimeoutAction: e.target.value as Draft['approvalTimeoutAction'] })} {...aria}>
                  <option value="cancel">Cancel the collaboration</option>
                  <option value="proceed">Go on to the integration</option>
                </select>
              )}
            </Field>
          </div>
        )}
      </fieldset>
      <FormError message={formError} />
      <div className="row">
        <button type="submit" disabled={!hydrated || save.isPending}>
          {save.isPending ? 'Saving…' : 'Save template'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
