import { data, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node';
import { useLoaderData, useSearchParams } from '@remix-run/react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { TRPCError } from '@trpc/server';
import { CollaborationForm } from '~/components/CollaborationForm';
import { CollaborationView } from '~/components/CollaborationView';
import { JobForm } from '~/components/JobForm';
import { JobList } from '~/components/JobList';
import { JobView } from '~/components/JobView';
import { ReviewForm } from '~/components/ReviewForm';
import { Presence } from '~/components/Presence';
import { ProjectWebhooks } from '~/components/ProjectWebhooks';
import { ResultHistory } from '~/components/ResultHistory';
import { requireCaller } from '~/lib/session.server';
import { useRoom } from '~/lib/socket';
import { useTRPC } from '~/lib/trpc';

export const meta: MetaFunction<typeof loader> = ({ data }) => [
  { title: data ? `${data.project.name} · Switchyard` : 'Switchyard' },
];

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const { caller } = await requireCaller(request, context);
  try {
    const projectId = params.projectId!;
    const [project, jobs] = await Promise.all([
      caller.projects.get({ projectId }),
      caller.jobs.list({ projectId, limit: 25 }),
    ]);
    return { project, jobs };
  } catch (error) {
    // A malformed id and another team's project look the same: not found.
    if (error instanceof TRPCError && (error.code === 'NOT_FOUND' || error.code === 'BAD_REQUEST')) {
      throw data('This project does not exist or you are not a member of its team.', { status: 404 });
    }
    throw error;
  }
}

export default function ProjectPage() {
  const { project, jobs: firstPage } = useLoaderData<typeof loader>();
  const [params, setParams] = useSearchParams();
  const selectedJobId = params.get('job');
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const listOptions = trpc.jobs.list.queryOptions({ projectId: project.id, limit: 25 });
  const jobs = useQuery({ ...listOptions, initialData: firstPage });
  // Every list of the project's jobs (the feed and the results) follows the project's room.
  const refreshList = () => void queryClient.invalidateQueries(trpc.jobs.list.pathFilter());
  useRoom({ kind: 'project', id: project.id }, { 'job:update': refreshList }, refreshList);

  const select = (jobId: string) => setParams({ job: jobId }, { preventScrollReset: true });

  return (
    <main className="page project">
      <header className="project-header">
        <h1>{project.name}</h1>
        <p className="muted">
          {project.team.name}
          {project.description && ` · ${project.description}`}
        </p>
        <Presence projectId={project.id} />
      </header>
      <section className="project-grid">
        <div className="stack">
          <JobForm
            projectId={project.id}
            teamId={project.team.id}
            models={project.models}
            onSubmitted={(jobId) => {
              refreshList();
              select(jobId);
            }}
          />
          <CollaborationForm
            projectId={project.id}
            teamId={project.team.id}
            onSubmitted={(jobId) => {
              refreshList();
              select(jobId);
            }}
          />
          <ReviewForm
            projectId={project.id}
            models={project.models}
            onSubmitted={(jobId) => {
              refreshList();
              select(jobId);
            }}
          />
          <JobList jobs={jobs.data.items} selectedJobId={selectedJobId} />
          <ResultHistory projectId={project.id} selectedJobId={selectedJobId} />
          <ProjectWebhooks projectId={project.id} />
        </div>
        <div>
          {selectedJobId ? <SelectedJob key={selectedJobId} jobId={selectedJobId} teamId={project.team.id} projectId={project.id} /> : <EmptyJobView />}
        </div>
      </section>
    </main>
  );
}

/** A collaboration opens as its tree, any other job in the job panel (both read the same `jobs.get`). */
function SelectedJob({ jobId, teamId, projectId }: { jobId: string; teamId: string; projectId: string }) {
  const trpc = useTRPC();
  const job = useQuery(trpc.jobs.get.queryOptions({ jobId }));
  if (job.data?.kind === 'multi_agent') return <CollaborationView jobId={jobId} teamId={teamId} projectId={projectId} />;
  return <JobView jobId={jobId} teamId={teamId} />;
}

function EmptyJobView() {
  return (
    <div className="card empty">
      <p>Choose a job to see its output, or run a new one.</p>
    </div>
  );
}
