import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useNavigation, useSearchParams } from '@remix-run/react';
import { z } from 'zod';
import { isError, LimitError, UnauthorizedError } from '../../server/errors';
import { readDeviceToken } from '../../server/auth/session';
import { MAX_EMAIL_LENGTH } from '../../server/services/auth';
import { signedInHeaders } from '~/lib/session.server';
import { safeRedirect } from '~/lib/redirect';
import { getUser } from '~/lib/session.server';
import { FormError } from '~/components/FormError';
import { SubmitButton } from '~/components/SubmitButton';
import { Field } from '~/components/Field';
import { readForm } from '~/lib/forms.server';

export const meta: MetaFunction = () => [{ title: 'Sign in · Switchyard' }];

const credentials = z.object({
  email: z.string().trim().max(MAX_EMAIL_LENGTH, `Use at most ${MAX_EMAIL_LENGTH} characters.`).pipe(z.email('Enter your email address.')),
  password: z.string().min(1, 'Enter your password.').max(1_000, 'Wrong email or password.'),
  redirectTo: z.string().default('/projects'),
});

export async function loader({ request, context }: LoaderFunctionArgs) {
  if (await getUser(request, context)) throw redirect('/projects');
  return null;
}

export async function action({ request, context }: ActionFunctionArgs) {
  const parsed = credentials.safeParse(Object.fromEntries(await readForm(request)));
  if (!parsed.success) {
    const fieldErrors = Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0]), i.message]));
    return data({ fieldErrors, formError: null }, { status: 400 });
  }
  try {
    const started = await context.services.auth.signIn(parsed.data.email, parsed.data.password, {
      ip: context.clientIp,
      device: readDeviceToken(request.headers.get('cookie')),
    });
    return redirect(safeRedirect(parsed.data.redirectTo), { headers: signedInHeaders(started, context) });
  } catch (error) {
    if (isError(error, UnauthorizedError) || isError(error, LimitError)) {
      return data({ fieldErrors: {}, formError: error.message }, { status: isError(error, LimitError) ? 429 : 401 });
    }
    throw error;
  }
}

export default function Login() {
  const result = useActionData<typeof action>();
  const [params] = useSearchParams();
  const busy = useNavigation().state !== 'idle';
  const fieldErrors: Record<string, string | undefined> = result?.fieldErrors ?? {};
  return (
    <main className="page narrow">
      <h1 className="brand">Switchyard</h1>
      <p className="muted">Run AI jobs with your team on shared GPUs.</p>
      <Form method="post" className="card stack" noValidate>
        <input type="hidden" name="redirectTo" value={params.get('redirectTo') ?? '/projects'} />
        <Field id="email" label="Email" error={fieldErrors.email}>
          {(aria) => <input name="email" type="email" autoComplete="email" required {...aria} />}
        </Field>
        <Field id="password" label="Password" error={fieldErrors.password}>
          {(aria) => <input name="password" type="password" autoComplete="current-password" required {...aria} />}
        </Field>
        <FormError message={result?.formError} />
        <SubmitButton busy={busy} pending="Signing in…">
          Sign in
        </SubmitButton>
      </Form>
      <p className="switch-auth">
        New to Switchyard? <Link to={`/signup${params.has('redirectTo') ? `?${new URLSearchParams({ redirectTo: params.get('redirectTo')! })}` : ''}`}>Create an account</Link>
      </p>
    </main>
  );
}
