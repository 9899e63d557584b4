import { openTestData } from './data';
import { expect, test } from './fixtures';

/**
 * A running job's page follows its progress as the worker pushes it: the stage (reviewing live
 * while a slow review runs), the percent, the activity and an ETA for the answer. The ETA is
 * checked for accuracy from the times the worker recorded, not against the test's own clock.
 */
test('the job page shows progress live, reviewing included, with an ETA within 20 % of the answer’s real end', async ({ page, signIn }) => {
  test.setTimeout(150_000);
  const data = await openTestData();
  try {
    const team = await data.team('Progress', ['Pat']);
    const pat = team.members[0]!;
    await signIn(page, pat.email, pat.password);
    await page.goto(`/projects/${team.project.id}`);
    const job = page.getByRole('article', { name: 'Job' });

    // One answer at normal speed first, so the model has a typical length to expect.
    await page.getByLabel('Requirements').fill(`A function that adds two numbers (${data.suffix})`);
    await page.getByRole('button', { name: 'Run job' }).click();
    await expect(job.getByText('Completed')).toBeVisible({ timeout: 60_000 });

    // A quarter of the simulator's speed: about 10 s for the answer and as long for its review.
    await data.slowGeneration(4);
    const requirements = `A database migration runner with a transaction per step and a lock (${data.suffix})`;
    await page.getByLabel('Requirements').fill(requirements);
    await page.getByRole('button', { name: 'Run job' }).click();
    await expect(job.getByRole('heading', { name: requirements })).toBeVisible();

    const progress = job.getByTestId('job-progress');
    await expect(progress).toHaveAttribute('data-stage', 'generating', { timeout: 60_000 });
    const header = await job.locator('header').boundingBox();

    // Mid-answer: between a third and two thirds of the generation span (10 → 75 %), with an ETA.
    const percentOf = async () => Number(/(\d+) %/.exec((await progress.textContent()) ?? '')?.[1] ?? 0);
    await expect.poll(percentOf, { timeout: 60_000, intervals: [100] }).toBeGreaterThanOrEqual(32);
    const reportedAt = Number(await progress.getAttribute('data-at'));
    const etaMs = Number(await progress.getAttribute('data-eta-ms'));
    expect(await percentOf()).toBeLessThanOrEqual(54);
    await expect(progress).toContainText(/about \d+ s left/);
    await expect(progress).toContainText('generate');

    // The answer ends where the review begins: the worker stamps the reviewing stage as it starts.
    await expect(progress).toHaveAttribute('data-stage', 'reviewing', { timeout: 60_000 });
    await expect(progress).toContainText('reviewing · 75 % · reviewCode');
    const answerEndedAt = Number(await progress.getAttribute('data-at'));
    const actualMs = answerEndedAt - reportedAt;
    expect(actualMs).toBeGreaterThan(0);
    test.info().annotations.push({ type: 'eta', description: `reported ${etaMs} ms before an answer that took ${actualMs} ms more` });
    expect(Math.abs(etaMs - actualMs), `ETA ${etaMs} ms against ${actualMs} ms`).toBeLessThanOrEqual(0.2 * actualMs);

    // The header kept its size while its progress changed.
    expect(await job.locator('header').boundingBox()).toEqual(header);
    await data.slowGeneration(1);
    await expect(job.getByText('Completed')).toBeVisible({ timeout: 60_000 });
    await expect(progress).toHaveCount(0);
  } finally {
    await data.slowGeneration(1).catch(() => undefined);
    await data.cleanup();
  }
});
