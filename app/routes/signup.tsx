import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useNavigation, useSearchParams } from '@remix-run/react';
import { isError, LimitError, ValidationError } from '../../server/errors';
import { MIN_PASSWORD_LENGTH, signUpInput } from '../../server/auth/signup-input';
import { fieldErrorsOf, readForm } from '~/lib/forms.server';
import { safeRedirect } from '~/lib/redirect';
import { getUser, signedInHeaders } from '~/lib/session.server';
import { FormError } from '~/components/FormError';
import { SubmitButton } from '~/components/SubmitButton';
import { Field } from '~/components/Field';

export const meta: MetaFunction = () => [{ title: 'Create an account · Switchyard' }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  if (await getUser(request, context)) throw redirect('/projects');
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = Object.fromEntries(await readForm(request));
  const parsed = signUpInput.safeParse(form);
  // What was typed comes back (never the password), so a refusal costs no retyping.
  const values = { name: String(form.name ?? ''), email: String(form.email ?? '') };
  if (!parsed.success) return data({ fieldErrors: fieldErrorsOf(parsed.error.issues), formError: null, values }, { status: 400 });
  try {
    const started = await context.services.auth.signUp(parsed.data, { ip: context.clientIp });
    return redirect(safeRedirect(String(form.redirectTo ?? '')), { headers: signedInHeaders(started, context) });
  } catch (error) {
    if (isError(error, ValidationError)) {
      return data({ fieldErrors: { [error.field ?? 'email']: error.message }, formError: null, values }, { status: 400 });
    }
    if (isError(error, LimitError)) return data({ fieldErrors: {}, formError: error.message, values }, { status: 429 });
    throw error;
  }
}

export default function SignUp() {
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const busy = useNavigation().state !== 'idle';
  const fieldErrors: Record<string, string | undefined> = result?.fieldErrors ?? {};
  const redirectTo = params.get('redirectTo');
  return (
    <main className="page narrow">
      <h1 className="brand">Switchyard</h1>
      <p className="muted">Create your account. You can start a team or join one with an invite link next.</p>
      <Form method="post" className="card stack" noValidate aria-label="Create an account">
        {redirectTo && <input type="hidden" name="redirectTo" value={redirectTo} />}
        <Field id="name" label="Name" error={fieldErrors.name}>
          {(aria) => <input name="name" autoComplete="name" required defaultValue={result?.values.name} {...aria} />}
        </Field>
        <Field id="email" label="Email" error={fieldErrors.email}>
          {(aria) => <input name="email" type="email" autoComplete="email" required defaultValue={result?.values.email} {...aria} />}
        </Field>
        <Field id="password" label="Password" hint={`At least ${MIN_PASSWORD_LENGTH} characters.`} error={fieldErrors.password}>
          {(aria) => <input name="password" type="password" autoComplete="new-password" required minLength={MIN_PASSWORD_LENGTH} {...aria} />}
        </Field>
        <FormError message={result?.formError} />
        <SubmitButton busy={busy} pending="Creating your account…">
          Create account
        </SubmitButton>
      </Form>
      <p className="switch-auth">
        Already have an account? <Link to={`/login${redirectTo ? `?${new URLSearchParams({ redirectTo })}` : ''}`}>Sign in</Link>
      </p>
    </main>
  );
}
