import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { formErrorsFrom, readForm } from '~/lib/forms.server';
import { requireCaller } from '~/lib/session.server';
import { FormError } from '~/components/FormError';
import { SubmitButton } from '~/components/SubmitButton';
import { Field } from '~/components/Field';

export const meta: MetaFunction = () => [{ title: 'Teams · Switchyard' }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  return { teams: await caller.teams.list() };
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const form = await readForm(request);
  try {
    const team = await caller.teams.create({ name: String(form.get('name') ?? '') });
    return redirect(`/teams/${team.id}`);
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ fieldErrors: errors.fieldErrors, formError: errors.formError }, { status: errors.status });
  }
}

export default function Teams() {
  const { teams } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state === 'submitting';
  const nameError = result?.fieldErrors.name;
  return (
    <main className="page">
      <h1>Teams</h1>
      <div className="team-layout">
        <section aria-labelledby="your-teams">
          <h2 id="your-teams">Your teams</h2>
          {teams.length === 0 ? (
            <p className="empty">You are not in a team yet. Create one, or open an invite link a teammate sent you.</p>
          ) : (
            <ul className="cards">
              {teams.map((t) => (
                <li key={t.id} className="card">
                  <Link to={`/teams/${t.id}`} className="card-title">
                    {t.name}
                  </Link>
                  <p className="muted">
                    <span className="badge">{t.role}</span> · {t.tier.name} tier · {t._count.memberships}{' '}
                    {t._count.memberships === 1 ? 'member' : 'members'} · {t._count.projects}{' '}
                    {t._count.projects === 1 ? 'project' : 'projects'}
                  </p>
                </li>
              ))}
            </ul>
          )}
        </section>
        <Form method="post" className="card stack" aria-labelledby="new-team" noValidate>
          <h2 id="new-team">New team</h2>
          <Field id="team-name" label="Team name" error={nameError}>
            {(aria) => <input name="name" required maxLength={60} {...aria} />}
          </Field>
          <FormError message={result?.formError} />
          <SubmitButton busy={busy} pending="Creating…">
            Create team
          </SubmitButton>
        </Form>
      </div>
    </main>
  );
}
