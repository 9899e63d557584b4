import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useLoaderData, useNavigation } from '@remix-run/react';
import { TRPCError } from '@trpc/server';
import { useState, type FormEvent } from 'react';
import { formErrorsFrom, readForm } from '~/lib/forms.server';
import { requireCaller } from '~/lib/session.server';
import { FormError } from '~/components/FormError';
import { SubmitButton } from '~/components/SubmitButton';
import { Field } from '~/components/Field';
import { CollaborationTemplates } from '~/components/CollaborationTemplates';

export const meta: MetaFunction<typeof loader> = ({ data }) => [{ title: data ? `${data.team.name} · Switchyard` : 'Team · Switchyard' }];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { user, caller } = await requireCaller(request, context);
  const teamId = params.teamId!;
  try {
    const team = await caller.teams.get({ teamId });
    const invites = team.myRole === 'owner' ? await caller.invites.list({ teamId }) : [];
    return { me: user.id, team, invites };
  } catch (error) {
    // A malformed id and another team's id look the same: not found.
    if (error instanceof TRPCError && (error.code === 'NOT_FOUND' || error.code === 'BAD_REQUEST')) {
      throw data('This team does not exist or you are not one of its members.', { status: 404 });
    }
    throw error;
  }
}

type Intent = 'createProject' | 'createInvite' | 'revokeInvite' | 'changeRole' | 'removeMember' | 'leave';

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const teamId = params.teamId!;
  const form = await readForm(request);
  const field = (name: string) => String(form.get(name) ?? '');
  const intent = field('intent') as Intent;
  // Which row a per-member or per-invite refusal belongs to.
  const target = field('userId') || field('inviteId') || null;
  try {
    switch (intent) {
      case 'createProject': {
        const project = await caller.teams.createProject({ teamId, name: field('name'), description: field('description') });
        return { intent, target, ok: true as const, message: `Project “${project.name}” created.`, projectId: project.id, inviteUrl: null };
      }
      case 'createInvite': {
        const invite = await caller.invites.create({ teamId });
        const inviteUrl = new URL(`/invite/${invite.token}`, request.url).toString();
        return { intent, target, ok: true as const, message: null, projectId: null, inviteUrl };
      }
      case 'revokeInvite':
        await caller.invites.revoke({ teamId, inviteId: field('inviteId') });
        return { intent, target, ok: true as const, message: 'Invite link revoked.', projectId: null, inviteUrl: null };
      case 'changeRole':
        await caller.teams.changeRole({ teamId, userId: field('userId'), role: field('role') as 'owner' | 'member' });
        return { intent, target, ok: true as const, message: 'Role changed.', projectId: null, inviteUrl: null };
      case 'removeMember':
        await caller.teams.removeMember({ teamId, userId: field('userId') });
        return { intent, target, ok: true as const, message: 'Member removed.', projectId: null, inviteUrl: null };
      case 'leave':
        await caller.teams.leave({ teamId });
        return redirect('/teams');
      default:
        return data({ intent, target, ok: false as const, fieldErrors: {}, formError: 'Unknown action.' }, { status: 400 });
    }
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ intent, target, ok: false as const, fieldErrors: errors.fieldErrors, formError: errors.formError }, { status: errors.status });
  }
}

type ActionResult = ReturnType<typeof useActionData<typeof action>>;

function errorFor(result: ActionResult, intent: Intent, target: string | null = null) {
  if (!result || result.ok || result.intent !== intent || (target !== null && result.target !== target)) return null;
  return result;
}

export default function TeamPage() {
  const { me, team, invites } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const isOwner = team.myRole === 'owner';
  const leaveError = errorFor(result, 'leave');

  function confirmLeave(event: FormEvent<HTMLFormElement>) {
    if (!window.confirm(`Leave ${team.name}? You will lose access to its projects.`)) event.preventDefault();
  }

  return (
    <main className="page">
      <header className="row spread team-header">
        <div>
          <h1>{team.name}</h1>
          <p className="muted">
            <span className="badge">{team.tier.name} tier</span> · you are {isOwner ? 'an owner' : 'a member'}
          </p>
        </div>
        <Form method="post" onSubmit={confirmLeave}>
          <input type="hidden" name="intent" value="leave" />
          <button type="submit" className="secondary">
            Leave team
          </button>
        </Form>
      </header>
      {leaveError && (
        <p className="error" role="alert">
          {leaveError.formError}
        </p>
      )}
      {result?.ok && result.message && (
        <p className="notice" role="status">
          {result.message}
          {result.projectId && (
            <>
              {' '}
              <Link to={`/projects/${result.projectId}`}>Open it</Link>
            </>
          )}
        </p>
      )}
      <div className="team-layout">
        <div className="stack">
          <Members me={me} members={team.members} isOwner={isOwner} result={result} />
          <Projects projects={team.projects} />
          <CollaborationTemplates teamId={team.id} />
        </div>
        {isOwner && (
          <div className="stack">
            <NewProject result={result} />
            <Invites invites={invites} result={result} />
          </div>
        )}
      </div>
    </main>
  );
}

type Data = ReturnType<typeof useLoaderData<typeof loader>>;

function Members({ me, members, isOwner, result }: { me: string; members: Data['team']['members']; isOwner: boolean; result: ActionResult }) {
  return (
    <section className="card" aria-labelledby="members-heading">
      <h2 id="members-heading">Members ({members.length})</h2>
      <ul className="member-list">
        {members.map((m) => {
          const error = errorFor(result, 'changeRole', m.id) ?? errorFor(result, 'removeMember', m.id);
          return (
            <li key={m.id} className="member">
              <div className="member-who">
                <span className="member-name">
                  {m.name}
                  {m.id === me && ' (you)'}
                </span>
                <span className="muted member-email">{m.email}</span>
              </div>
              {isOwner ? (
                <div className="row member-actions">
                  <Form method="post" className="row">
                    <input type="hidden" name="intent" value="changeRole" />
                    <input type="hidden" name="userId" value={m.id} />
                    <label className="visually-hidden" htmlFor={`role-${m.id}`}>
                      Role of {m.name}
                    </label>
                    {/* Remounted on a refusal, so the select shows the role the member still has. */}
                    <select id={`role-${m.id}`} name="role" defaultValue={m.role} key={`${m.role}${error ? ':refused' : ''}`}>
                      <option value="owner">Owner</option>
                      <option value="member">Member</option>
                    </select>
                    <button type="submit" className="secondary" aria-label={`Save role of ${m.name}`}>
                      Save
                    </button>
                  </Form>
                  {m.id !== me && (
                    <Form method="post">
                      <input type="hidden" name="intent" value="removeMember" />
                      <input type="hidden" name="userId" value={m.id} />
                      <button type="submit" className="danger" aria-label={`Remove ${m.name}`}>
                        Remove
                      </button>
                    </Form>
                  )}
                </div>
              ) : (
                <span className={`badge badge-role-${m.role}`}>{m.role}</span>
              )}
              {error && (
                <p className="error member-error" role="alert">
                  {error.formError}
                </p>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function Projects({ projects }: { projects: Data['team']['projects'] }) {
  return (
    <section className="card" aria-labelledby="projects-heading">
      <h2 id="projects-heading">Projects</h2>
      {projects.length === 0 ? (
        <p className="empty">No projects yet.</p>
      ) : (
        <ul className="plain-list">
          {projects.map((p) => (
            <li key={p.id}>
              <Link to={`/projects/${p.id}`}>{p.name}</Link>
              {p.description && <span className="muted"> — {p.description}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function NewProject({ result }: { result: ActionResult }) {
  const navigation = useNavigation();
  const busy = navigation.state === 'submitting' && navigation.formData?.get('intent') === 'createProject';
  const error = errorFor(result, 'createProject');
  const created = result?.ok && result.intent === 'createProject' ? result.projectId : null;
  const fieldErrors: Record<string, string | undefined> = error?.fieldErrors ?? {};
  return (
    // A new key after each success empties the form.
    <Form method="post" className="card stack" aria-labelledby="new-project" key={created ?? 'new'} noValidate>
      <h2 id="new-project">New project</h2>
      <input type="hidden" name="intent" value="createProject" />
      <Field id="project-name" label="Project name" error={fieldErrors.name}>
        {(aria) => <input name="name" required maxLength={80} {...aria} />}
      </Field>
      <Field id="project-description" label="Description" error={fieldErrors.description}>
        {(aria) => <textarea name="description" rows={2} maxLength={500} {...aria} />}
      </Field>
      <FormError message={error?.formError} />
      <SubmitButton busy={busy} pending="Creating…">
        Create project
      </SubmitButton>
    </Form>
  );
}

function Invites({ invites, result }: { invites: Data['invites']; result: ActionResult }) {
  const navigation = useNavigation();
  const busy = navigation.state === 'submitting' && navigation.formData?.get('intent') === 'createInvite';
  const inviteUrl = result?.ok && result.intent === 'createInvite' ? result.inviteUrl : null;
  const error = errorFor(result, 'createInvite') ?? errorFor(result, 'revokeInvite');
  const [copied, setCopied] = useState<string | null>(null);
  return (
    <section className="card stack" aria-labelledby="invites-heading">
      <h2 id="invites-heading">Invite people</h2>
      <p className="muted">Each link lets one person join as a member, for 7 days. Anyone holding it can use it: send it privately.</p>
      <Form method="post">
        <input type="hidden" name="intent" value="createInvite" />
        <SubmitButton busy={busy} pending="Creating…">
          Create invite link
        </SubmitButton>
      </Form>
      {inviteUrl && (
        <div className="stack">
          <label className="field">
            <span>New invite link (shown only now)</span>
            <input readOnly value={inviteUrl} onFocus={(e) => e.currentTarget.select()} data-testid="invite-url" />
          </label>
          <button
            type="button"
            className="secondary"
            onClick={() => void navigator.clipboard?.writeText(inviteUrl).then(() => setCopied(inviteUrl), () => setCopied(null))}
          >
            {copied === inviteUrl ? 'Copied' : 'Copy link'}
          </button>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error.formError}
        </p>
      )}
      <h3>Open invites</h3>
      {invites.length === 0 ? (
        <p className="empty">No open invite links.</p>
      ) : (
        <ul className="plain-list">
          {invites.map((invite) => (
            <li key={invite.id} className="row spread">
              <span>
                By {invite.createdBy.name}, expires{' '}
                <time dateTime={new Date(invite.expiresAt).toISOString()}>{new Date(invite.expiresAt).toLocaleDateString()}</time>
              </span>
              <Form method="post">
                <input type="hidden" name="intent" value="revokeInvite" />
                <input type="hidden" name="inviteId" value={invite.id} />
                <button type="submit" className="secondary">
                  Revoke
                </button>
              </Form>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
