import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { SubmitButton } from '~/components/SubmitButton';
import { TopBar } from '~/components/TopBar';
import { formErrorsFrom } from '~/lib/forms.server';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction = () => [{ title: 'Team invite · Switchyard' }];

// Signed-out visitors go through sign-in (or sign-up, linked from there) and come back here.
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { user, caller } = await requireCaller(request, context);
  const me = { name: user.name, email: user.email, isAdmin: user.isAdmin };
  try {
    return { me, invite: await caller.invites.preview({ token: params.token! }), problem: null };
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ me, invite: null, problem: errors.formError ?? 'This invite link is not valid.' }, { status: errors.status });
  }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  try {
    const { teamId } = await caller.invites.accept({ token: params.token! });
    return redirect(`/teams/${teamId}`);
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ problem: errors.formError ?? 'This invite link is not valid.' }, { status: errors.status });
  }
}

export default function InvitePage() {
  const { me, invite, problem } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const busy = useNavigation().state !== 'idle';
  const message = result?.problem ?? problem;
  return (
    <>
      <TopBar user={me} />
      <main className="page narrow-page">
        <h1>Team invite</h1>
        {message || !invite ? (
          <div className="card stack" role="alert">
            <p>{message}</p>
            <p>
              <Link to="/teams">Go to your teams</Link>
            </p>
          </div>
        ) : invite.alreadyMember ? (
          <div className="card stack">
            <p>You are already a member of {invite.team.name}.</p>
            <p>
              <Link to={`/teams/${invite.team.id}`}>Open {invite.team.name}</Link>
            </p>
          </div>
        ) : (
          <Form method="post" className="card stack">
            <p>
              {invite.invitedBy} invited you to join <strong>{invite.team.name}</strong> on Switchyard.
            </p>
            <p className="muted">
              You join as a member and will see the team’s projects and jobs. The link expires on{' '}
              <time dateTime={new Date(invite.expiresAt).toISOString()}>{new Date(invite.expiresAt).toLocaleDateString()}</time>.
            </p>
            <SubmitButton busy={busy} pending="Joining…">
              Join {invite.team.name}
            </SubmitButton>
          </Form>
        )}
      </main>
    </>
  );
}
