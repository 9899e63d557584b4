import { data, type ActionFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, useActionData, useNavigation } from '@remix-run/react';
import { readSessionToken } from '../../server/auth/session';
import { MIN_PASSWORD_LENGTH } from '../../server/auth/signup-input';
import { isError, LimitError, ValidationError } from '../../server/errors';
import { readForm } from '~/lib/forms.server';
import { requireUser } from '~/lib/session.server';
import { Field } from '~/components/Field';
import { FormError } from '~/components/FormError';
import { SubmitButton } from '~/components/SubmitButton';

export const meta: MetaFunction = () => [{ title: 'Account · Switchyard' }];

type Intent = 'password' | 'others';

/** Both keep the session of the browser asking; every other one ends, and its open tabs disconnect. */
export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireUser(request, context);
  const keep = readSessionToken(request.headers.get('cookie'));
  const form = await readForm(request);
  const intent = String(form.get('intent') ?? '') as Intent;
  try {
    if (intent === 'password') {
      const input = { currentPassword: String(form.get('currentPassword') ?? ''), newPassword: String(form.get('newPassword') ?? '') };
      await context.services.auth.changePassword(user, input, keep);
      return { intent, ok: true as const, message: 'Your password is changed, and your other sessions are signed out.' };
    }
    if (intent === 'others') {
      const count = await context.services.auth.signOutOthers(user, keep);
      return { intent, ok: true as const, message: count === 1 ? 'Signed out of 1 other session.' : `Signed out of ${count} other sessions.` };
    }
    return data({ intent, ok: false as const, fieldErrors: {}, formError: 'Unknown action.' }, { status: 400 });
  } catch (error) {
    if (isError(error, ValidationError)) return data({ intent, ok: false as const, fieldErrors: { [error.field ?? 'newPassword']: error.message }, formError: null }, { status: 400 });
    if (isError(error, LimitError)) return data({ intent, ok: false as const, fieldErrors: {}, formError: error.message }, { status: 429 });
    throw error;
  }
}

export default function AccountSettings() {
  const result = useActionData<typeof action>();
  const navigation = useNavigation();
  const submitting = (intent: Intent) => navigation.state === 'submitting' && navigation.formData?.get('intent') === intent;
  const outcome = (intent: Intent) => (result?.intent === intent ? result : null);
  const password = outcome('password');
  const others = outcome('others');
  const fieldErrors: Record<string, string | undefined> = password && !password.ok ? password.fieldErrors : {};
  return (
    <main className="page narrow stack">
      <h1>Account</h1>
      <Form method="post" className="card stack" aria-labelledby="change-password" key={password?.ok ? 'changed' : 'form'} noValidate>
        <h2 id="change-password">Change your password</h2>
        <input type="hidden" name="intent" value="password" />
        <Field id="currentPassword" label="Current password" error={fieldErrors.currentPassword}>
          {(aria) => <input name="currentPassword" type="password" autoComplete="current-password" required {...aria} />}
        </Field>
        <Field id="newPassword" label="New password" hint={`At least ${MIN_PASSWORD_LENGTH} characters.`} error={fieldErrors.newPassword}>
          {(aria) => <input name="newPassword" type="password" autoComplete="new-password" required minLength={MIN_PASSWORD_LENGTH} {...aria} />}
        </Field>
        <FormError message={password && !password.ok ? password.formError : null} />
        {password?.ok && <p role="status">{password.message}</p>}
        <SubmitButton busy={submitting('password')} pending="Changing…">
          Change password
        </SubmitButton>
      </Form>
      <Form method="post" className="card stack" aria-labelledby="other-sessions">
        <h2 id="other-sessions">Other sessions</h2>
        <p className="muted">Signed in on another computer, or left a session open somewhere? End every session but this one.</p>
        <input type="hidden" name="intent" value="others" />
        <FormError message={others && !others.ok ? others.formError : null} />
        {others?.ok && <p role="status">{others.message}</p>}
        <SubmitButton busy={submitting('others')} pending="Signing out…">
          Sign out other sessions
        </SubmitButton>
      </Form>
    </main>
  );
}
