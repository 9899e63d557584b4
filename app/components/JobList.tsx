import { StatusBadge } from './StatusBadge';

interface JobSummary {
  id: string;
  status: string;
  requirements: string;
  model: string;
  kind: string;
  createdAt: Date | string;
  user: { name: string };
  /** The API key a chat job came through. */
  apiKey: { name: string } | null;
}

interface Props {
  jobs: JobSummary[];
  selectedJobId: string | null;
  onSelect: (jobId: string) => void;
}

export function JobList({ jobs, selectedJobId, onSelect }: Props) {
  return (
    <section className="card" aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Jobs</h2>
      {jobs.length === 0 ? (
        <p className="empty">No jobs in this project yet.</p>
      ) : (
        <ul className="job-list">
          {jobs.map((job) => (
            <li key={job.id}>
              <button
                type="button"
                className="job-row"
                aria-current={job.id === selectedJobId ? 'true' : undefined}
                onClick={() => onSelect(job.id)}
              >
                <span className="job-title">{job.requirements}</span>
                <span className="job-meta">
                  <StatusBadge status={job.status} /> {job.user.name}
                  {job.apiKey && ` via API key ${job.apiKey.name}`} · {job.kind === 'multi_agent' ? 'collaboration' : job.model} ·{' '}
                  <time dateTime={new Date(job.createdAt).toISOString()}>{new Date(job.createdAt).toLocaleTimeString()}</time>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
