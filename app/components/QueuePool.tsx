import { Link } from '@remix-run/react';
import type { QueuePoolEvent, QueueTeamEvent } from '../../server/realtime/events';
import type { PoolSample } from '../../server/realtime/queue-samples';
import { othersText, placeText, queueRows, waitProgress, type OwnWaitingJob } from '~/lib/queue-rows';
import { QueueChart } from './QueueChart';

const CHART_WINDOW_MS = 5 * 60_000;
const MIN_CHART_WINDOW_MS = 60_000;

type OwnRunningJob = QueueTeamEvent['running'][number];

interface Props {
  pool: QueuePoolEvent;
  /** The viewer's teams' jobs in this pool; everyone else's are counts only. */
  waiting: OwnWaitingJob[];
  running: OwnRunningJob[];
  history: PoolSample[];
  userId: string;
}

function JobLabel({ job, jobId }: { job: OwnWaitingJob['job']; jobId: string }) {
  if (!job) return <span className="queue-job-title">Job {jobId.slice(0, 8)}</span>;
  return (
    <Link className="queue-job-title" to={`/projects/${job.projectId}?job=${jobId}`}>
      {job.title}
    </Link>
  );
}

function who(job: OwnWaitingJob['job'], mine: boolean): string {
  const via = job?.apiKeyName ? ` via API key ${job.apiKeyName}` : '';
  if (mine) return `you${via}`;
  return `${job?.userName ?? 'a team-mate'}${via}`;
}

export function QueuePool({ pool, waiting, running, history, userId }: Props) {
  const to = pool.at;
  // The last five minutes, or less while this web process has watched for less (at least one).
  const from = Math.max(to - CHART_WINDOW_MS, Math.min(to - MIN_CHART_WINDOW_MS, history[0]?.at ?? to));
  const shown = history.filter((s) => s.at >= from);
  const slots = pool.backends.reduce((n, b) => n + b.slots, 0);
  const upSlots = pool.backends.reduce((n, b) => n + (b.up ? b.slots : 0), 0);
  // Pipelined jobs are listed with the running ones: they hold a lease and start with no further wait.
  const othersRunning = Math.max(0, pool.running + pool.starting - running.length);
  const rows = queueRows(waiting, pool.waiting);
  const headingId = `pool-${pool.pool}`;

  return (
    <section className="card stack queue-pool" aria-labelledby={headingId}>
      <header className="row spread">
        <h2 id={headingId}>Pool {pool.pool}</h2>
        <p className="muted queue-counts">
          {pool.running} running{pool.starting > 0 && ` · ${pool.starting} starting`} · {pool.waiting} waiting · {upSlots} of {slots} slots up
        </p>
      </header>

      <div className="queue-charts">
        <QueueChart
          label="Queue depth"
          points={shown.map((s) => ({ at: s.at, value: s.waiting }))}
          max={1}
          from={from}
          to={to}
          current={`${pool.waiting} waiting`}
        />
        {pool.backends.map((backend) => (
          <QueueChart
            key={backend.id}
            label={`${backend.id}${backend.up ? '' : ' (down)'}`}
            points={shown.map((s) => ({ at: s.at, value: s.backends.find((b) => b.id === backend.id)?.running ?? 0 }))}
            max={backend.slots}
            from={from}
            to={to}
            current={`${backend.running} of ${backend.slots} slots${backend.queued > 0 ? ` + ${backend.queued} queued` : ''}`}
          />
        ))}
      </div>

      <div className="queue-columns">
        <section aria-label={`Running in ${pool.pool}`}>
          <h3>Running</h3>
          {pool.running + pool.starting === 0 ? (
            <p className="empty">Nothing is running.</p>
          ) : (
            <ul className="queue-list">
              {running.map((job) => (
                <li key={job.jobId} className={job.userId === userId ? 'queue-job mine' : 'queue-job'}>
                  <JobLabel job={job.job} jobId={job.jobId} />
                  <span className="queue-job-meta">
                    {who(job.job, job.userId === userId)} · {job.model} on {job.backendId}
                    {job.starting && ' · starting when a slot frees'}
                  </span>
                  <progress className="queue-progress" aria-label={job.starting ? 'Starting' : 'Generating'} />
                </li>
              ))}
              {othersRunning > 0 && (
                <li className="queue-others">
                  {othersRunning} {othersRunning === 1 ? 'job' : 'jobs'} from other teams running
                </li>
              )}
            </ul>
          )}
        </section>

        <section aria-label={`Waiting in ${pool.pool}`}>
          <h3>Waiting, in the order they will start</h3>
          {rows.length === 0 ? (
            <p className="empty">No one is waiting: a new job starts at once.</p>
          ) : (
            <ol className="queue-list">
              {rows.map((row, i) => {
                if (row.kind === 'others') {
                  return (
                    <li key={`others-${i}`} className="queue-others">
                      {othersText(row)}
                    </li>
                  );
                }
                const { job } = row;
                const mine = job.userId === userId;
                const progress = waitProgress(job, pool.at);
                return (
                  <li key={job.jobId} className={mine ? 'queue-job mine' : 'queue-job'} data-testid="queue-job">
                    <JobLabel job={job.job} jobId={job.jobId} />
                    <span className="queue-job-meta">
                      {who(job.job, mine)} · {job.model} · {placeText(job)}
                    </span>
                    <progress
                      className="queue-progress"
                      max={1}
                      {...(progress === null ? {} : { value: progress })}
                      aria-label={progress === null ? 'Wait progress unknown' : `Waited ${Math.round(progress * 100)}% of the expected wait`}
                    />
                  </li>
                );
              })}
            </ol>
          )}
        </section>
      </div>
    </section>
  );
}
