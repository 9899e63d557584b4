import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTRPC } from '~/lib/trpc';
import { JOB_EVENTS, type JobEvent } from '../../server/webhooks/events';
import { Field } from './Field';
import { FormError } from './FormError';

const EVENT_LABELS: Record<JobEvent, string> = {
  'job.completed': 'completed',
  'job.failed': 'failed',
  'job.cancelled': 'cancelled',
  'job.awaiting_approval': 'waiting for approval',
};

type FieldErrors = Record<string, string | undefined>;
const fieldErrorsOf = (error: { data?: unknown } | null) => ((error?.data as { fieldErrors?: FieldErrors | null } | undefined)?.fieldErrors ?? {}) as FieldErrors;

interface Values {
  url: string;
  secret: string;
  events: JobEvent[];
}

/** A webhook's URL, secret and events; editing leaves the secret empty to keep the current one. */
function WebhookForm({ prefix, initial, editing, busy, error, onSubmit, onCancel }: {
  prefix: string;
  initial: Values;
  editing: boolean;
  busy: boolean;
  error: { message: string; data?: unknown } | null;
  onSubmit: (values: Values) => void;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState(initial);
  const fieldErrors = fieldErrorsOf(error);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(values);
  };
  return (
    <form className="stack" onSubmit={submit} aria-label={editing ? 'Edit webhook' : 'Add a webhook'}>
      <Field id={`${prefix}-url`} label="URL" hint="Where the events are POSTed; the operator's allow-list decides which hosts." error={fieldErrors.url}>
        {(aria) => <input {...aria} type="url" required value={values.url} onChange={(e) => setValues({ ...values, url: e.target.value })} />}
      </Field>
      <Field
        id={`${prefix}-secret`}
        label="Secret"
        hint={editing ? 'Leave empty to keep the current secret.' : 'At least 16 characters; it signs every delivery and is never shown again.'}
        error={fieldErrors.secret}
      >
        {(aria) => <input {...aria} type="password" autoComplete="new-password" required={!editing} value={values.secret} onChange={(e) => setValues({ ...values, secret: e.target.value })} />}
      </Field>
      <fieldset className="row">
        <legend>Events</legend>
        {JOB_EVENTS.map((name) => (
          <label key={name} className="row">
            <input
              type="checkbox"
              checked={values.events.includes(name)}
              onChange={(e) => setValues({ ...values, events: e.target.checked ? [...values.events, name] : values.events.filter((x) => x !== name) })}
            />
            {EVENT_LABELS[name]}
          </label>
        ))}
        {fieldErrors.events && <span className="error">{fieldErrors.events}</span>}
      </fieldset>
      <FormError message={error && Object.keys(fieldErrors).length === 0 ? error.message : null} />
      <div className="row">
        <button type="submit" disabled={busy}>
          {editing ? 'Save webhook' : 'Add webhook'}
        </button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

/** The project's webhooks and their deliveries, for its team's owners (docs/notifications.md). */
export function ProjectWebhooks({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const list = useQuery(trpc.webhooks.list.queryOptions({ projectId }));
  const refresh = () => void list.refetch();
  const create = useMutation(trpc.webhooks.create.mutationOptions({ onSuccess: refresh }));
  const update = useMutation(trpc.webhooks.update.mutationOptions({ onSuccess: () => (setEditing(null), refresh()) }));
  const remove = useMutation(trpc.webhooks.delete.mutationOptions({ onSuccess: refresh }));
  const [editing, setEditing] = useState<string | null>(null);
  // A new form after each webhook added: it starts empty again.
  const [formKey, setFormKey] = useState(0);

  if (!list.data?.canManage) return null;
  return (
    <section className="card stack" aria-label="Webhooks">
      <h2>Webhooks</h2>
      <p className="muted">Jobs of this project that end are POSTed to these URLs, signed with their secret.</p>
      {list.data.webhooks.map((hook) => (
        <article key={hook.id} className="stack webhook" aria-label={`Webhook ${hook.url}`}>
          {editing === hook.id ? (
            <WebhookForm
              prefix={`hook-${hook.id}`}
              initial={{ url: hook.url, secret: '', events: hook.events as JobEvent[] }}
              editing
              busy={update.isPending}
              error={update.error}
              onCancel={() => setEditing(null)}
              onSubmit={(values) => update.mutate({ webhookId: hook.id, url: values.url, events: values.events, ...(values.secret ? { secret: values.secret } : {}) })}
            />
          ) : (
            <div className="row spread">
              <div>
                <code>{hook.url}</code>
                <p className="muted">
                  {hook.events.map((e) => EVENT_LABELS[e as JobEvent] ?? e).join(', ')}
                  {!hook.enabled && ' · paused'}
                </p>
              </div>
              <div className="row">
                <button type="button" className="secondary" onClick={() => setEditing(hook.id)}>
                  Edit
                </button>
                <button type="button" className="secondary" onClick={() => update.mutate({ webhookId: hook.id, enabled: !hook.enabled })}>
                  {hook.enabled ? 'Pause' : 'Resume'}
                </button>
                <button type="button" className="secondary" onClick={() => remove.mutate({ webhookId: hook.id })}>
                  Delete
                </button>
              </div>
            </div>
          )}
          {hook.deliveries.length > 0 && (
            <table className="deliveries" aria-label="Deliveries">
              <thead>
                <tr>
                  <th>Event</th>
                  <th>Status</th>
                  <th>Attempts</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {hook.deliveries.map((delivery) => (
                  <tr key={delivery.id}>
                    <td>{delivery.event}</td>
                    <td>{delivery.status}</td>
                    <td>
                      {delivery.attempts.map((attempt) => (
                        <div key={attempt.attempt} title={attempt.error ?? undefined}>
                          #{attempt.attempt} {attempt.statusCode ?? 'no answer'} · {attempt.durationMs} ms · {new Date(attempt.at).toLocaleTimeString()}
                          {attempt.error && ` · ${attempt.error}`}
                        </div>
                      ))}
                    </td>
                    <td>{new Date(delivery.createdAt).toLocaleString()}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </article>
      ))}
      {remove.error && <FormError message={remove.error.message} />}
      <WebhookForm
        key={formKey}
        prefix="new-hook"
        initial={{ url: '', secret: '', events: ['job.completed', 'job.failed'] }}
        editing={false}
        busy={create.isPending}
        error={create.error}
        onSubmit={(values) => create.mutate({ projectId, ...values }, { onSuccess: () => setFormKey((k) => k + 1) })}
      />
    </section>
  );
}
