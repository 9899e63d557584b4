import fs from 'node:fs';
import path from 'node:path';
import type { Page, TestInfo } from '@playwright/test';
import { repoRoot } from '../scripts/lib/paths';
import { openTestData } from './data';
import { expect, test } from './fixtures';

const ARTIFACTS = path.join(repoRoot, 'e2e', 'artifacts');

/** Saved under e2e/artifacts/ (kept after the run) and attached to the test's report. */
async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

test('A and B of one team watch A’s job stream and get cancelled; C of another team sees it only as an anonymous entry', async ({ browser, baseURL, signIn }, testInfo) => {
  test.setTimeout(120_000);
  const data = await openTestData();
  const contexts = await Promise.all([0, 1, 2].map(() => browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } })));
  try {
    const rockets = await data.team('Rockets', ['Ada', 'Bo']);
    const others = await data.team('Harbour', ['Cy']);
    const [a, b, c] = await Promise.all(contexts.map((context) => context.newPage()));
    const [ada, bo] = rockets.members;
    const cy = others.members[0]!;
    await signIn(a!, ada!.email, ada!.password);
    await signIn(b!, bo!.email, bo!.password);
    await signIn(c!, cy.email, cy.password);

    await a!.goto(`/projects/${rockets.project.id}`);
    await b!.goto(`/projects/${rockets.project.id}`);
    await expect(b!.getByTestId('presence')).toHaveText(`Also here: ${ada!.name}`);

    // Slow enough (about 20 s for the answer) to watch it run and cancel it; the simulator is
    // shared with the files running beside this one, whose jobs must still finish within 30 s.
    await data.slowGeneration(8);
    const requirements = `A Python function that merges two sorted lists (${data.suffix})`;
    await a!.getByLabel('Requirements').fill(requirements);
    await a!.getByRole('button', { name: 'Run job' }).click();
    const aJob = a!.getByRole('article', { name: 'Job' });
    await expect(aJob.getByRole('heading', { name: requirements })).toBeVisible();

    // B sees the job appear in the project's feed, opens it and watches the tokens arrive.
    const feed = b!.getByRole('region', { name: 'Jobs' });
    await feed.getByRole('link', { name: new RegExp(requirements.replace(/[()]/g, '\\$&')) }).click();
    const bJob = b!.getByRole('article', { name: 'Job' });
    await expect(bJob.getByText('Running')).toBeVisible({ timeout: 30_000 });
    const output = bJob.getByTestId('job-output');
    await expect(output).toContainText(/\S{3,}/, { timeout: 30_000 });
    const seen = (await output.textContent())!.length;
    await expect.poll(async () => (await output.textContent())!.length, { timeout: 20_000 }).toBeGreaterThan(seen);

    // C's shared queue shows the job only as another team's, with none of its details.
    await c!.getByRole('link', { name: 'Queue' }).click();
    await expect(c!.getByRole('heading', { name: 'Queue', level: 1 })).toBeVisible();
    const pool = c!.getByRole('region', { name: 'Pool local' });
    await expect(pool.getByText(/\d+ jobs? from other teams (running|ahead|waiting)/).first()).toBeVisible();
    await expect(pool.getByText(/\d+ running/)).toBeVisible();
    const cText = await c!.locator('main').innerText();
    for (const secret of [requirements, ada!.name, rockets.name, rockets.project.name]) expect(cText).not.toContain(secret);
    await expect(c!.getByRole('img', { name: /^Queue depth over the last \d+ (seconds|minutes): now \d+ waiting/ })).toBeVisible();
    await screenshot(c!, testInfo, 'queue-view-other-team');

    // A's own queue view shows the job in full, highlighted as A's.
    await a!.getByRole('link', { name: 'Queue' }).click();
    const mine = a!.locator('.queue-job.mine', { hasText: requirements });
    await expect(mine).toBeVisible();
    await expect(mine).toContainText('you');
    await screenshot(a!, testInfo, 'queue-view-own-team');
    await a!.setViewportSize({ width: 390, height: 844 });
    await screenshot(a!, testInfo, 'queue-view-phone');
    await a!.setViewportSize({ width: 1280, height: 900 });

    await mine.getByRole('link').click();
    await expect(aJob.getByRole('button', { name: 'Cancel' })).toBeVisible();
    // Opened mid-run: the text so far, then the live stream on top of it.
    await expect(aJob.getByTestId('job-output')).toContainText(/\S{3,}/);
    await screenshot(a!, testInfo, 'project-page-running');
    await aJob.getByRole('button', { name: 'Cancel' }).click();
    await expect(aJob.getByText('Cancelled')).toBeVisible({ timeout: 20_000 });
    await expect(bJob.getByText('Cancelled')).toBeVisible({ timeout: 20_000 });
    await screenshot(b!, testInfo, 'project-page-cancelled');
  } finally {
    await data.slowGeneration(1).catch(() => undefined);
    await Promise.all(contexts.map((context) => context.close()));
    await data.cleanup();
  }
});
