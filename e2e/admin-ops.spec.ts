import { openTestData } from './data';
import { expect, test, users } from './fixtures';

test('an admin cancels another team’s running job from the jobs page and finds it in the audit log', async ({ browser, baseURL, signIn }) => {
  test.setTimeout(120_000);
  const data = await openTestData();
  const contexts = await Promise.all([0, 1].map(() => browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } })));
  try {
    const team = await data.team('Ops', ['Oz']);
    const oz = team.members[0]!;
    const [member, admin] = await Promise.all(contexts.map((context) => context.newPage()));
    await signIn(member!, oz.email, oz.password);
    await signIn(admin!, users.admin.email, users.admin.password);

    // Slow enough (about 20 s for the answer) to still run when the admin acts; the simulator is
    // shared with the files running beside this one, whose jobs must still finish within 30 s.
    await data.slowGeneration(8);
    await member!.goto(`/projects/${team.project.id}`);
    const requirements = `A Go function that retries with backoff (${data.suffix})`;
    await member!.getByLabel('Requirements').fill(requirements);
    await member!.getByRole('button', { name: 'Run job' }).click();
    const job = member!.getByRole('article', { name: 'Job' });
    await expect(job.getByText('Running')).toBeVisible({ timeout: 30_000 });

    await admin!.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await admin!.getByRole('link', { name: 'Jobs of every team' }).click();
    await expect(admin!.getByRole('heading', { name: 'Jobs of every team' })).toBeVisible();
    await admin!.getByLabel('Team').selectOption({ label: team.name });
    await admin!.getByLabel('Status').selectOption('running');
    await admin!.getByRole('button', { name: 'Show' }).click();
    const row = admin!.getByRole('row').filter({ hasText: requirements });
    await expect(row).toContainText(oz.email);
    await row.getByRole('button', { name: /^Cancel job/ }).click();
    await expect(row.getByRole('status')).toHaveText('Cancelling: the job stops and gives its slot back.');
    // The member's page hears it live.
    await expect(job.getByText('Cancelled')).toBeVisible({ timeout: 20_000 });

    // The audit log, searched by who and what, has the cancel and the read that found the job.
    await admin!.goto('/admin');
    // The resource manager's status, as it stored it on its last tick.
    await expect(admin!.getByRole('region', { name: 'Resources' }).getByRole('table', { name: 'Pools' })).toContainText('local');
    await admin!.getByRole('link', { name: 'Audit log' }).click();
    await admin!.getByLabel('Who').fill('admin@switchyard');
    await admin!.getByLabel('What').fill('job.cancel');
    await admin!.getByRole('button', { name: 'Search' }).click();
    const entries = admin!.getByRole('table', { name: 'Audit entries' });
    await expect(entries.getByRole('row').nth(1)).toContainText('job.cancel');
    const jobId = await data.jobIdOf(requirements);
    await expect(entries.getByRole('row').filter({ hasText: jobId })).toHaveCount(1);
    await admin!.getByLabel('What').fill('admin.jobs.read');
    await admin!.getByRole('button', { name: 'Search' }).click();
    await expect(entries.getByRole('row').filter({ hasText: team.id }).first()).toContainText('"status":"running"');
  } finally {
    await data.slowGeneration(1).catch(() => undefined);
    await Promise.all(contexts.map((context) => context.close()));
    await data.cleanup();
  }
});
