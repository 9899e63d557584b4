import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useNavigation, useSearchParams } from '@remix-run/react';
import { sessionCookie } from '../../server/auth/session';
import { isError, LimitError, ValidationError } from '../../server/errors';
import { MIN_PASSWORD_LENGTH, signUpInput } from '../../server/auth/signup-input';
import { fieldErrorsOf } from '~/lib/forms.server';
import { safeRedirect } from '~/lib/redirect';
import { getUser } from '~/lib/session.server';
import { FormError } from '~/components/FormError';

export const meta: MetaFunction = () => [{ title: 'Create an account · Switchyard' }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  if (await getUser(request, context)) throw redirect('/projects');
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = Object.fromEntries(await request.formData());
  const parsed = signUpInput.safeParse(form);
  // What was typed comes back (never the password), so a refusal costs no retyping.
  const values = { name: String(form.name ?? ''), email: String(form.email ?? '') };
  if (!parsed.success) return data({ fieldErrors: fieldErrorsOf(parsed.error.issues), formError: null, values }, { status: 400 });
  try {
    const { token, expiresAt } = await context.services.auth.signUp(parsed.data, { ip: context.clientIp });
    const secure = new URL(request.url).protocol === 'https:';
    return redirect(safeRedirect(String(form.redirectTo ?? '')), {
      headers: { 'Set-Cookie': sessionCookie(token, expiresAt, secure) },
    });
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
        <label className="field">
          <span>Name</span>
          <input name="name" autoComplete="name" required defaultValue={result?.values.name} aria-invalid={!!fieldErrors.name} aria-describedby={fieldErrors.name ? 'name-error' : undefined} />
          {fieldErrors.name && <span className="error" id="name-error">{fieldErrors.name}</span>}
        </label>
        <label className="field">
          <span>Email</span>
          <input name="email" type="email" autoComplete="email" required defaultValue={result?.values.email} aria-invalid={!!fieldErrors.email} aria-describedby={fieldErrors.email ? 'email-error' : undefined} />
          {fieldErrors.email && <span className="error" id="email-error">{fieldErrors.email}</span>}
        </label>
        <label className="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            required
            minLength={MIN_PASSWORD_LENGTH}
            aria-invalid={!!fieldErrors.password}
            aria-describedby={fieldErrors.password ? 'password-error' : 'password-hint'}
          />
          {fieldErrors.password ? (
            <span className="error" id="password-error">{fieldErrors.password}</span>
          ) : (
            <span className="hint" id="password-hint">At least {MIN_PASSWORD_LENGTH} characters.</span>
          )}
        </label>
        <FormError message={result?.formError} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating your account…' : 'Create account'}
        </button>
      </Form>
      <p className="switch-auth">
        Already have an account? <Link to={`/login${redirectTo ? `?${new URLSearchParams({ redirectTo })}` : ''}`}>Sign in</Link>
      </p>
    </main>
  );
}
