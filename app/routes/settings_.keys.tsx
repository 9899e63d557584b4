import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { useState } from 'react';
import { formErrorsFrom, readForm } from '~/lib/forms.server';
import { requireCaller } from '~/lib/session.server';
import { barUser } from '~/lib/shell.server';
import { Field } from '~/components/Field';
import { FormError } from '~/components/FormError';
import { SubmitButton } from '~/components/SubmitButton';
import { TopBar } from '~/components/TopBar';

// settings_.keys, not settings.keys: this page stands alone rather than nesting in a /settings layout,
// so it renders the top bar itself.

export const meta: MetaFunction = () => [{ title: 'API keys · Switchyard' }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { user, caller } = await requireCaller(request, context);
  const [keys, teams] = await Promise.all([caller.apiKeys.list(), caller.teams.list()]);
  return { user: barUser(user), keys, teams: teams.map((t) => ({ id: t.id, name: t.name })) };
}

type Intent = 'create' | 'revoke';

export async function action({ request, context }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const form = await readForm(request);
  const field = (name: string) => String(form.get(name) ?? '');
  const intent = field('intent') as Intent;
  try {
    if (intent === 'create') {
      const expires = field('expiresAt');
      // A date input gives a day; the key works through the end of it (UTC).
      const expiresAt = expires ? new Date(`${expires}T23:59:59.999Z`) : undefined;
      const { id, key } = await caller.apiKeys.create({ teamId: field('teamId'), name: field('name'), ...(expiresAt ? { expiresAt } : {}) });
      return { intent, ok: true as const, id, key };
    }
    if (intent === 'revoke') {
      await caller.apiKeys.revoke({ id: field('id') });
      return { intent, ok: true as const, id: field('id'), key: null };
    }
    return data({ intent, ok: false as const, fieldErrors: {}, formError: 'Unknown action.' }, { status: 400 });
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ intent, ok: false as const, fieldErrors: errors.fieldErrors, formError: errors.formError }, { status: errors.status });
  }
}

const day = (value: Date | string | null) => (value ? new Date(value).toLocaleDateString() : null);

export default function ApiKeysPage() {
  const { user, keys, teams } = useLoaderData<typeof loader>();
  const me = user.id;
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const busy = navigation.state === 'submitting' && navigation.formData?.get('intent') === 'create';
  const createError = result && !result.ok && result.intent === 'create' ? result : null;
  const revokeError = result && !result.ok && result.intent === 'revoke' ? result : null;
  const fieldErrors: Record<string, string | undefined> = createError?.fieldErrors ?? {};
  const created = result?.ok && result.key ? result : null;
  const [copied, setCopied] = useState(false);

  return (
    <>
      <TopBar user={user} />
      <main className="page stack">
        <h1>API keys</h1>
        <p className="muted">
          A key lets editors and scripts (Continue, aider, the <code>openai</code> and <code>ollama</code> clients) send requests through
          Switchyard&apos;s queue as you, billed to one of your teams; <code>docs/api.md</code> shows how to point them here.
        </p>
        {created && (
          <section className="card stack" aria-labelledby="new-key">
            <h2 id="new-key">Your new key (shown only now)</h2>
            <input readOnly value={created.key!} onFocus={(e) => e.currentTarget.select()} data-testid="api-key" aria-labelledby="new-key" />
            <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(created.key!).then(() => setCopied(true), () => setCopied(false))}>
              {copied ? 'Copied' : 'Copy key'}
            </button>
          </section>
        )}
        {teams.length === 0 ? (
          <p className="empty">Join or create a team first: every key is billed to one.</p>
        ) : (
          <Form method="post" className="card stack" aria-labelledby="create-key" key={created?.id ?? 'new'} noValidate>
            <h2 id="create-key">New key</h2>
            <input type="hidden" name="intent" value="create" />
            <Field id="key-name" label="Name" hint="What will use it, e.g. “aider on my laptop”." error={fieldErrors.name}>
              {(aria) => <input name="name" required maxLength={60} {...aria} />}
            </Field>
            <Field id="key-team" label="Team" hint="Its requests are billed to this team and scheduled with its tier." error={fieldErrors.teamId}>
              {(aria) => (
                <select name="teamId" {...aria}>
                  {teams.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field id="key-expires" label="Expires (optional)" hint="The key stops working after this day (UTC)." error={fieldErrors.expiresAt}>
              {(aria) => <input type="date" name="expiresAt" {...aria} />}
            </Field>
            <FormError message={createError?.formError} />
            <SubmitButton busy={busy} pending="Creating…">
              Create key
            </SubmitButton>
          </Form>
        )}
        <section className="card stack" aria-labelledby="keys-heading">
          <h2 id="keys-heading">Keys</h2>
          {revokeError && (
            <p className="error" role="alert">
              {revokeError.formError}
            </p>
          )}
          {keys.length === 0 ? (
            <p className="empty">No keys yet.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Team</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.map((key) => {
                  const expired = key.expiresAt !== null && new Date(key.expiresAt).getTime() <= Date.now();
                  return (
                    <tr key={key.id}>
                      <td>{key.name}</td>
                      <td>
                        <code>{key.prefix}…</code>
                      </td>
                      <td>{key.team.name}</td>
                      <td>{key.user.id === me ? 'you' : key.user.name}</td>
                      <td>{day(key.lastUsedAt) ?? 'never'}</td>
                      <td>{expired ? `expired ${day(key.expiresAt)}` : (day(key.expiresAt) ?? 'never')}</td>
                      <td>
                        <Form method="post">
                          <input type="hidden" name="intent" value="revoke" />
                          <input type="hidden" name="id" value={key.id} />
                          <button type="submit" className="danger" aria-label={`Revoke ${key.name}`}>
                            Revoke
                          </button>
                        </Form>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </section>
      </main>
    </>
  );
}
