import { Runtime } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/log';
import { temporalLogger } from '../../server/log/temporal';
import { jobWorkflowId } from '../../workflows/definitions';
import { useJobStack } from '../support/job-stack';
import { until } from '../support/until';

/**
 * The worker's logging as server/worker.ts installs it (the SDK's runtime logger over pino), for a
 * job run through the real Temporal dev server on a simulated backend: every line about the job
 * names it.
 */

interface Line {
  level: string;
  msg: string;
  jobId?: string;
  workflowId?: string;
  runId?: string;
  backendId?: string;
  activityType?: string;
}
const lines: Line[] = [];
// Before anything in this file touches the runtime (the stack's connections are opened in beforeAll).
Runtime.install({
  logger: temporalLogger(createLogger({ name: 'worker', level: 'debug', destination: { write: (line: string) => lines.push(JSON.parse(line) as Line) } })),
});

const { stack } = useJobStack({ simulators: [{ tokensPerSecond: 400, timeToFirstTokenMs: 10, modelLoadMs: 0, outputTokens: 20 }] });

describe('job log lines', () => {
  it('carry the job id, workflow id and run id, and the backend in the activities that use one', async () => {
    const demo = await stack.signIn('demo@switchyard.dev', 'demo-password');
    const projectId = (await stack.prisma.project.findFirstOrThrow({ where: { name: 'Demo Project' } })).id;
    const job = await demo.caller.jobs.submit({ projectId, requirements: 'A function that adds two numbers', clientKey: 'job-logs-1', priority: 'normal' });
    await until(async () => (await demo.caller.jobs.get({ jobId: job.id })).status === 'completed', 'the job to complete');
    // The row reads completed once saveResult ran; the workflow's own last line comes after it.
    await until(() => lines.some((line) => line.workflowId === jobWorkflowId(job.id) && line.msg === 'Workflow completed'), 'the workflow to log its completion');

    const about = lines.filter((line) => line.workflowId === jobWorkflowId(job.id));
    // The SDK's own lines for the run: its workflow's (from inside the sandbox, through the logger
    // sink) and each activity's, the scheduler's requests included.
    const workflowLines = about.filter((line) => line.activityType === undefined);
    expect(workflowLines.map((line) => line.msg)).toEqual(expect.arrayContaining(['Workflow started', 'Workflow completed']));
    expect([...new Set(about.map((line) => line.activityType))]).toEqual(
      expect.arrayContaining(['prepareJob', 'requestCapacity', 'generate', 'releaseCapacity', 'saveResult']),
    );
    for (const line of about) expect(line).toMatchObject({ jobId: job.id, runId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    // From its input on: the SDK writes "Activity started" before the activity's input is read.
    const generate = about.filter((line) => line.activityType === 'generate' && line.msg !== 'Activity started');
    expect(generate.map((line) => line.msg)).toContain('Activity completed');
    for (const line of generate) expect(line.backendId).toBe(stack.backendIds[0]);
    // The scheduler's own workflow is about no one job.
    expect(lines.some((line) => line.workflowId && line.workflowId !== jobWorkflowId(job.id) && line.jobId)).toBe(false);
  });
});
