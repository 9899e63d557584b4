import { data, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react';
import { formErrorsFrom, readForm } from '~/lib/forms.server';
import { schedulerNoticeText } from '~/lib/scheduler-notice';
import { requireCaller } from '~/lib/session.server';

export const meta: MetaFunction = () => [{ title: 'Admin · Switchyard' }];

export async function loader({ request, context }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const [{ tiers }, teams, teamLimit, backends, deadLetters, resources] = await Promise.all([
    caller.admin.tiers(),
    caller.admin.teams(),
    caller.admin.teamLimit(),
    caller.backends.list(),
    caller.jobs.deadLetters({ limit: 50 }),
    // As the resource manager stored it on its last tick: the page never waits on the workflow.
    caller.resources.snapshot(),
  ]);
  return { tiers, teams, teamLimit, backends, deadLetters, resources };
}

type Intent = 'setTier' | 'setTeamLimit' | 'setSlots' | 'setEnabled' | 'drain' | 'undrain' | 'retry';

export async function action({ request, context }: ActionFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  const form = await readForm(request);
  const field = (name: string) => String(form.get(name) ?? '');
  const intent = field('intent') as Intent;
  // Which row a refusal belongs to.
  const target = field('teamId') || field('backendId') || field('jobId') || field('target');
  try {
    switch (intent) {
      case 'setTier': {
        const team = await caller.admin.setTeamTier({ teamId: target, tierId: field('tierId') });
        return { ok: true as const, target, message: { text: `${team.name} is on the ${team.tier.name} tier; its next jobs run by it.`, ok: true } };
      }
      case 'setTeamLimit': {
        const typed = field('maxTeamsPerUser').trim();
        const { limit } = await caller.admin.setTeamLimit({ maxTeamsPerUser: typed === '' ? null : Number(typed) });
        const text = limit === 0 ? 'Anyone may own any number of teams.' : `One person may own at most ${limit} teams from now on.`;
        return { ok: true as const, target: 'teamLimit', message: { text, ok: true } };
      }
      case 'setSlots': {
        const number = (name: string) => (field(name).trim() === '' ? Number.NaN : Number(field(name)));
        const { scheduler } = await caller.backends.update({
          backendId: target,
          slots: number('slots'),
          // Cloud rows have no prefetch field.
          ...(form.has('prefetch') ? { prefetch: number('prefetch') } : {}),
        });
        return { ok: true as const, target, message: schedulerNoticeText(scheduler) };
      }
      case 'setEnabled': {
        const { scheduler } = await caller.backends.update({ backendId: target, enabled: field('enabled') === 'true' });
        return { ok: true as const, target, message: schedulerNoticeText(scheduler) };
      }
      case 'drain':
      case 'undrain': {
        const { backend, scheduler } = await caller.backends[intent]({ backendId: target });
        const said = intent === 'drain' ? `${backend.name} takes no new jobs; what runs there finishes.` : `${backend.name} takes jobs again.`;
        const notice = schedulerNoticeText(scheduler);
        return { ok: true as const, target, message: { ok: notice.ok, text: `${said} ${notice.text}` } };
      }
      case 'retry':
        await caller.jobs.retry({ jobId: target });
        return { ok: true as const, target, message: { text: 'The job runs again.', ok: true } };
      default:
        return data({ ok: false as const, target, error: 'Unknown action.' }, { status: 400 });
    }
  } catch (error) {
    const errors = formErrorsFrom(error);
    if (!errors) throw error;
    return data({ ok: false as const, target, error: Object.values(errors.fieldErrors)[0] ?? errors.formError }, { status: errors.status });
  }
}

type Data = ReturnType<typeof useLoaderData<typeof loader>>;
type ActionResult = ReturnType<typeof useActionData<typeof action>>;

/** The outcome of the last action, shown on the row it concerned. */
function Outcome({ result, target }: { result: ActionResult; target: string }) {
  if (!result || result.target !== target) return null;
  if (!result.ok) {
    return (
      <p className="error" role="alert">
        {result.error}
      </p>
    );
  }
  return (
    <p className={result.message.ok ? 'notice' : 'warning'} role="status">
      {result.message.text}
    </p>
  );
}

export default function AdminPage() {
  const { tiers, teams, teamLimit, backends, deadLetters, resources } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <main className="page stack">
      <h1>Admin</h1>
      <p>
        <Link to="/admin/models">Model catalogue</Link>: what users choose, and what each kind of backend serves it as.
      </p>
      <p>
        <Link to="/admin/residency">Residency</Link>: which models each Ollama backend has on disk and in memory; pull missing ones.
      </p>
      <p>
        <Link to="/admin/jobs">Jobs of every team</Link>: cancel, retry or boost any team&apos;s job (each read is audited).
      </p>
      <p>
        <Link to="/admin/audit">Audit log</Link>: who did what, and when.
      </p>
      <Tiers tiers={tiers} />
      <Teams teams={teams} tiers={tiers} teamLimit={teamLimit} result={result} />
      <Backends backends={backends} result={result} />
      <Resources snapshot={resources} />
      <DeadLetters jobs={deadLetters} result={result} />
    </main>
  );
}

// One fixed locale and UTC: the server renders this page, and the browser must hydrate the same text.
const number = (n: number) => n.toLocaleString('en-US');
const limit = (n: number) => (n === 0 ? 'no limit' : number(n));

const clockTime = (at: number | string | Date) => `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** The resource manager's last stored status: load, health, routing pressure, recommendations, the hook's last result. */
function Resources({ snapshot }: { snapshot: Data['resources'] }) {
  return (
    <section className="card stack" aria-labelledby="resources-heading">
      <h2 id="resources-heading">Resources</h2>
      {!snapshot ? (
        <p className="empty">The resource manager has not reported yet; it starts with the first worker.</p>
      ) : (
        <>
          <p className="muted">Sampled at {clockTime(snapshot.status.sampledAt)}.</p>
          <div className="table-scroll">
            <table className="data-table" aria-label="Pools">
              <thead>
                <tr>
                  <th scope="col">Pool</th>
                  <th scope="col">Busy / up slots</th>
                  <th scope="col">Waiting</th>
                  <th scope="col">Median wait</th>
                  <th scope="col">Routing</th>
                  <th scope="col">Recommendation</th>
                </tr>
              </thead>
              <tbody>
                {snapshot.status.pools.map((pool) => (
                  <tr key={pool.pool}>
                    <th scope="row">{pool.pool}</th>
                    <td>
                      {number(pool.busy)} / {number(pool.upSlots)}
                    </td>
                    <td>{number(pool.queueDepth)}</td>
                    <td>{number(Math.round(pool.medianWaitMs / 1000))} s</td>
                    <td>{pool.pressured ? <span className="warning">under pressure: fallback tiers go to cloud</span> : 'normal'}</td>
                    <td>
                      {pool.recommendation
                        ? `${pool.recommendation.action === 'scale_out' ? 'scale out' : 'scale in'} to ${pool.recommendation.targetInstances} (${pool.recommendation.reason})`
                        : 'none'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ul aria-label="Backend health">
            {snapshot.status.backends.map((backend) => (
              <li key={backend.id} className={backend.healthy ? undefined : 'warning'}>
                {backend.id} ({backend.pool}): {backend.healthy ? 'healthy' : `down after ${backend.failures} failed probes${backend.error ? `: ${backend.error}` : ''}`}
              </li>
            ))}
          </ul>
          <p>
            Scale hook:{' '}
            {snapshot.status.lastHook
              ? `${snapshot.status.lastHook.ok ? 'succeeded' : `failed (${snapshot.status.lastHook.error})`} for ${snapshot.status.lastHook.pool} at ${clockTime(snapshot.status.lastHook.at)}`
              : 'not run yet'}
          </p>
        </>
      )}
    </section>
  );
}

function Tiers({ tiers }: { tiers: Data['tiers'] }) {
  return (
    <section className="card" aria-labelledby="tiers-heading">
      <div className="row spread">
        <h2 id="tiers-heading">Tiers</h2>
        <Link to="/admin/tiers/new">New tier</Link>
      </div>
      <div className="table-scroll">
        <table className="data-table">
          <thead>
            <tr>
              <th scope="col">Tier</th>
              <th scope="col">Teams</th>
              <th scope="col">Weight</th>
              <th scope="col">Base priority</th>
              <th scope="col">Running / queued per user</th>
              <th scope="col">Token budget</th>
              <th scope="col">Models</th>
              <th scope="col">Pools</th>
              <th scope="col">Cloud fallback</th>
              <th scope="col">Min share</th>
            </tr>
          </thead>
          <tbody>
            {tiers.map((tier) => (
              <tr key={tier.id}>
                <th scope="row">
                  <Link to={`/admin/tiers/${tier.id}`} aria-label={`Edit tier ${tier.name}`}>
                    {tier.name}
                  </Link>
                </th>
                <td>{tier._count.teams}</td>
                <td>{tier.weight}</td>
                <td>{tier.basePriority}</td>
                <td>
                  {limit(tier.maxRunningPerUser)} / {limit(tier.maxQueuedPerUser)}
                </td>
                <td>{tier.tokenBudget === 0 ? 'unlimited' : `${number(tier.tokenBudget)} per ${number(tier.budgetPeriodSeconds)} s`}</td>
                <td>{tier.allowedModels.length > 0 ? tier.allowedModels.join(', ') : 'all'}</td>
                <td>{tier.poolPreference.join(' → ')}</td>
                <td>{tier.cloudFallback ? `after ${tier.cloudFallbackAfterSec} s` : 'no'}</td>
                <td>{tier.minShare}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Teams({ teams, tiers, teamLimit, result }: { teams: Data['teams']; tiers: Data['tiers']; teamLimit: Data['teamLimit']; result: ActionResult }) {
  return (
    <section className="card" aria-labelledby="teams-heading">
      <h2 id="teams-heading">Teams</h2>
      <Form method="post" className="row">
        <input type="hidden" name="intent" value="setTeamLimit" />
        <input type="hidden" name="target" value="teamLimit" />
        <label htmlFor="team-limit" title="Each team has its own token budget; admins are not limited. Empty: the default (MAX_TEAMS_PER_USER); 0: no limit.">
          Teams one person may own
        </label>
        <input id="team-limit" name="maxTeamsPerUser" type="number" min={0} max={10_000} placeholder={teamLimit.setByAdmin ? '' : `default ${teamLimit.limit}`} defaultValue={teamLimit.setByAdmin ? teamLimit.limit : ''} key={`${teamLimit.setByAdmin}-${teamLimit.limit}`} className="slots-input" />
        <button type="submit" className="secondary">
          Save
        </button>
      </Form>
      <Outcome result={result} target="teamLimit" />
      {teams.length === 0 ? (
        <p className="empty">No team exists yet.</p>
      ) : (
        <ul className="member-list">
          {teams.map((team) => (
            <li key={team.id} className="member">
              <div className="member-who">
                <span className="member-name">{team.name}</span>
                <span className="muted member-email">
                  {team._count.memberships} member{team._count.memberships === 1 ? '' : 's'} · {team.tier.name}
                </span>
              </div>
              <Form method="post" className="row member-actions">
                <input type="hidden" name="intent" value="setTier" />
                <input type="hidden" name="teamId" value={team.id} />
                <label htmlFor={`tier-${team.id}`}>Tier</label>
                <select id={`tier-${team.id}`} name="tierId" defaultValue={team.tier.id} key={team.tier.id}>
                  {tiers.map((tier) => (
                    <option key={tier.id} value={tier.id}>
                      {tier.name}
                    </option>
                  ))}
                </select>
                <button type="submit" className="secondary" aria-label={`Move ${team.name} to the chosen tier`}>
                  Move
                </button>
              </Form>
              <div className="member-error">
                <Outcome result={result} target={team.id} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Backends({ backends, result }: { backends: Data['backends']; result: ActionResult }) {
  return (
    <section className="card" aria-labelledby="backends-heading">
      <div className="row spread">
        <h2 id="backends-heading">Backends</h2>
        <Link to="/admin/backends/new">New backend</Link>
      </div>
      {backends.length === 0 ? (
        <p className="empty">No backend yet: add one, or start a worker with OLLAMA_URL set.</p>
      ) : (
        <ul className="member-list">
          {backends.map((backend) => (
            <li key={backend.id} className="member">
              <div className="member-who">
                <span className="member-name">
                  <Link to={`/admin/backends/${encodeURIComponent(backend.id)}`} aria-label={`Edit backend ${backend.name}`}>
                    {backend.name}
                  </Link>{' '}
                  <span className="badge">{backend.pool}</span>{' '}
                  {backend.state !== 'serving' ? <span className="badge">{backend.state}</span> : backend.live && !backend.live.up && <span className="badge">down</span>}
                </span>
                <span className="muted member-email">
                  {backend.kind} · {backend.models.join(', ') || 'no models reported'}
                  {backend.live ? ` · ${backend.live.running} of ${backend.slots} slots busy` : backend.runningJobs > 0 && ` · ${backend.runningJobs} running`}
                  {backend.live && backend.live.queued > 0 && `, ${backend.live.queued} queued`}
                </span>
              </div>
              <div className="row member-actions">
                <Form method="post" className="row">
                  <input type="hidden" name="intent" value="setSlots" />
                  <input type="hidden" name="backendId" value={backend.id} />
                  <label htmlFor={`slots-${backend.id}`}>Slots</label>
                  <input id={`slots-${backend.id}`} name="slots" type="number" min={1} max={256} defaultValue={backend.slots} key={backend.slots} className="slots-input" />
                  {backend.kind === 'ollama' && (
                    <>
                      <label htmlFor={`prefetch-${backend.id}`} title="Requests queued at the backend beyond its slots, so a freed slot starts the next job at once">
                        Prefetch
                      </label>
                      <input id={`prefetch-${backend.id}`} name="prefetch" type="number" min={0} max={512} defaultValue={backend.prefetch} key={`p${backend.prefetch}`} className="slots-input" />
                    </>
                  )}
                  <button type="submit" className="secondary" aria-label={`Save slots of ${backend.name}`}>
                    Save
                  </button>
                </Form>
                <Form method="post">
                  <input type="hidden" name="intent" value="setEnabled" />
                  <input type="hidden" name="backendId" value={backend.id} />
                  <input type="hidden" name="enabled" value={String(!backend.enabled)} />
                  <button type="submit" className={backend.enabled ? 'danger' : 'secondary'} aria-label={`${backend.enabled ? 'Disable' : 'Enable'} ${backend.name}`}>
                    {backend.enabled ? 'Disable' : 'Enable'}
                  </button>
                </Form>
                <Form method="post">
                  <input type="hidden" name="intent" value={backend.draining ? 'undrain' : 'drain'} />
                  <input type="hidden" name="backendId" value={backend.id} />
                  <button type="submit" className="secondary" aria-label={`${backend.draining ? 'Undrain' : 'Drain'} ${backend.name}`}>
                    {backend.draining ? 'Undrain' : 'Drain'}
                  </button>
                </Form>
              </div>
              <div className="member-error">
                <Outcome result={result} target={backend.id} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function DeadLetters({ jobs, result }: { jobs: Data['deadLetters']; result: ActionResult }) {
  return (
    <section className="card" aria-labelledby="dead-heading">
      <h2 id="dead-heading">Dead letters</h2>
      {jobs.length === 0 ? (
        <p className="empty">No job has exhausted its retries.</p>
      ) : (
        <ul className="member-list">
          {jobs.map((job) => (
            <li key={job.id} className="member">
              <div className="member-who">
                <span className="member-name">
                  {job.team.name} · {job.user.name} · {job.model}
                </span>
                <span className="muted member-email">
                  {job.finishedAt ? `${new Date(job.finishedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC · ` : ''}
                  {job.error ?? 'no error recorded'}
                </span>
              </div>
              <Form method="post">
                <input type="hidden" name="intent" value="retry" />
                <input type="hidden" name="jobId" value={job.id} />
                <button type="submit" className="secondary" aria-label={`Retry job ${job.id} of ${job.team.name}`}>
                  Retry
                </button>
              </Form>
              <div className="member-error">
                <Outcome result={result} target={job.id} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
