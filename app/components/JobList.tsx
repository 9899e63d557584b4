import { JobEntry } from './JobEntry';
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
}

export function JobList({ jobs, selectedJobId }: Props) {
  return (
    <section className="card" aria-labelledby="jobs-heading">
      <h2 id="jobs-heading">Jobs</h2>
      {jobs.length === 0 ? (
        <p className="empty">No jobs in this project yet.</p>
      ) : (
        <ul className="job-list">
          {jobs.map((job) => (
            <li key={job.id}>
              <JobEntry jobId={job.id} selected={job.id === selectedJobId} title={job.requirements}>
                <StatusBadge status={job.status} /> {job.user.name}
                {job.apiKey && ` via API key ${job.apiKey.name}`} · {job.kind === 'multi_agent' ? 'collaboration' : job.model} ·{' '}
                <time dateTime={new Date(job.createdAt).toISOString()}>{new Date(job.createdAt).toLocaleTimeString()}</time>
              </JobEntry>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
