import { openTestData } from './data';
import { expect, test } from './fixtures';

/**
 * A page never waits on a workflow query: with every call that asks Temporal hanging (as when the
 * job's worker is dead or the server is overloaded), the job panel still paints from the row.
 */
test('the job panel paints from the database while every workflow query hangs', async ({ page, signIn }) => {
  const data = await openTestData();
  try {
    const team = await data.team('Paint', ['Pia']);
    const requirements = `A function that paints ${data.suffix}`;
    const jobId = await data.runningJob(team, requirements, 'export function paint() {');

    const held: string[] = [];
    await page.route(/\/trpc\/[^?]*(jobs\.live|queue\.get)/, (route) => {
      held.push(new URL(route.request().url()).pathname);
      // Never answered: the request hangs for as long as the page lives.
    });
    await signIn(page, team.members[0]!.email, team.members[0]!.password);
    await page.goto(`/projects/${team.project.id}?job=${jobId}`);

    const job = page.getByRole('article', { name: 'Job' });
    await expect(job.getByText(requirements)).toBeVisible();
    await expect(job.getByText('Running')).toBeVisible();
    await expect(job.getByTestId('job-output')).toContainText('export function paint() {');
    // The panel asked for the job's stage and place, and painted without the answer.
    await expect.poll(() => held.some((path) => path.includes('jobs.live'))).toBe(true);
    await expect(job.getByText('Loading job…')).toHaveCount(0);
  } finally {
    await data.cleanup();
  }
});
