import { Link } from '@remix-run/react';
import type { ReactNode } from 'react';

/**
 * One job in a project's list, opening it in the job panel. A link rather than a button: it works
 * before the page hydrates (a keyboard user's Enter on a server-rendered button did nothing), and it
 * can be opened in a new tab or copied.
 */
export function JobEntry({ jobId, selected, title, children }: { jobId: string; selected: boolean; title: string; children: ReactNode }) {
  return (
    <Link to={`?job=${encodeURIComponent(jobId)}`} preventScrollReset className="job-row" aria-current={selected ? 'true' : undefined}>
      <span className="job-title">{title}</span>
      <span className="job-meta">{children}</span>
    </Link>
  );
}
