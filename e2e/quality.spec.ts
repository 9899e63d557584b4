import type { Locator, Page } from '@playwright/test';
import { openTestData } from './data';
import { expect, test } from './fixtures';

/**
 * The "quality of the UI" bar, measured rather than eyeballed: the main path works with
 * the keyboard alone and shows where focus is; streaming tokens move nothing on the page
 * (Chromium's layout-instability entries); no page scrolls sideways at phone width.
 */

/** Presses Tab until `target` has focus; fails if it is not reachable within `limit` presses. */
async function tabTo(page: Page, target: Locator, limit = 40) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((el) => el === document.activeElement)) {
      // A keyboard user must see where they are: the focus ring is drawn.
      expect(await target.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe('none');
      return;
    }
  }
  throw new Error(`${target.toString()} was not reached with ${limit} presses of Tab`);
}

test('a keyboard user signs in, opens a project, runs a job and opens it from the feed', async ({ page }) => {
  test.setTimeout(180_000);
  const data = await openTestData();
  try {
    const team = await data.team('Keys', ['Kim']);
    const kim = team.members[0]!;
    await page.goto('/login');
    await tabTo(page, page.getByLabel('Email'));
    await page.keyboard.type(kim.email);
    await tabTo(page, page.getByLabel('Password'));
    await page.keyboard.type(kim.password);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();

    await tabTo(page, page.getByRole('link', { name: team.project.name }));
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: team.project.name })).toBeVisible();

    const requirements = `A Go function that reverses a string (${data.suffix})`;
    await tabTo(page, page.getByLabel('Requirements'));
    await page.keyboard.type(requirements);
    await tabTo(page, page.getByRole('button', { name: 'Run job' }));
    await page.keyboard.press('Enter');
    const job = page.getByRole('article', { name: 'Job' });
    await expect(job.getByRole('heading', { name: requirements })).toBeVisible();

    // Open it again from the project's feed, by keyboard: first another page, then back.
    await page.goto(`/projects/${team.project.id}`);
    const entry = page.getByRole('region', { name: 'Jobs' }).getByRole('link', { name: new RegExp(escape(requirements)) });
    await tabTo(page, entry);
    await page.keyboard.press('Enter');
    await expect(job.getByRole('heading', { name: requirements })).toBeVisible();
    await expect(job.getByText('Completed')).toBeVisible({ timeout: 60_000 });
  } finally {
    await data.cleanup();
  }
});

type StreamRecord = {
  shifts: { at: number; value: number }[];
  streamed: { at: number; length: number }[];
  resultAt: number | null;
};

test('tokens stream into the job view without moving anything on the page', async ({ page, signIn }) => {
  test.setTimeout(90_000);
  const data = await openTestData();
  try {
    const team = await data.team('Steady', ['Sol']);
    const sol = team.members[0]!;
    // Recorded inside the page, so that a fast job cannot finish between two looks from the test:
    // every layout shift not caused by input (what Chromium sums as cumulative layout shift), each
    // length of the streamed text as it changes, and when the result replaced the stream.
    await page.addInitScript(() => {
      const w = window as unknown as StreamRecord;
      w.shifts = [];
      w.streamed = [];
      w.resultAt = null;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[]) {
          if (!entry.hadRecentInput) w.shifts.push({ at: entry.startTime, value: entry.value });
        }
      }).observe({ type: 'layout-shift', buffered: true });
      new MutationObserver(() => {
        const length = Number(document.querySelector('[data-testid="job-output"]')?.getAttribute('data-streamed') ?? 0);
        if (length > (w.streamed.at(-1)?.length ?? 0)) w.streamed.push({ at: performance.now(), length });
        if (w.resultAt === null && document.querySelector('[data-testid="job-result"]')) w.resultAt = performance.now();
      }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await signIn(page, sol.email, sol.password);
    await page.goto(`/projects/${team.project.id}`);
    await page.getByLabel('Requirements').fill(`A Rust function that parses a CSV line (${data.suffix})`);
    await page.getByRole('button', { name: 'Run job' }).click();

    const job = page.getByRole('article', { name: 'Job' });
    await expect(job.getByText('Completed')).toBeVisible({ timeout: 60_000 });
    const { shifts, streamed, resultAt } = await page.evaluate(() => {
      const { shifts, streamed, resultAt } = window as unknown as StreamRecord;
      return { shifts, streamed, resultAt };
    });
    expect(streamed.length, 'tokens arrived in several pieces').toBeGreaterThan(1);
    expect(streamed.at(-1)!.length - streamed[0]!.length).toBeGreaterThan(40);
    // From the first token until the result takes the stream's place.
    const shiftWhileStreaming = shifts
      .filter(({ at }) => at >= streamed[0]!.at && (resultAt === null || at < resultAt))
      .reduce((sum, { value }) => sum + value, 0);
    // 0.1 is the web's "good" bound for a whole visit; streaming text should cost next to nothing.
    expect(shiftWhileStreaming).toBeLessThan(0.01);
  } finally {
    await data.cleanup();
  }
});

test('no page scrolls sideways at phone width', async ({ browser, baseURL, signIn }) => {
  test.setTimeout(90_000);
  const data = await openTestData();
  const context = await browser.newContext({ baseURL, viewport: { width: 390, height: 844 } });
  try {
    const team = await data.team('Narrow', ['Nia']);
    const nia = team.members[0]!;
    const page = await context.newPage();
    await signIn(page, nia.email, nia.password);
    // A long unbroken line in the requirements: the worst case for wrapping.
    await page.goto(`/projects/${team.project.id}`);
    await page.getByLabel('Requirements').fill(`A function named ${'veryLongIdentifier'.repeat(8)} (${data.suffix})`);
    await page.getByRole('button', { name: 'Run job' }).click();
    await expect(page.getByRole('article', { name: 'Job' }).getByText('Completed')).toBeVisible({ timeout: 60_000 });

    for (const path of ['/projects', `/projects/${team.project.id}`, '/queue', `/teams/${team.id}`, '/teams']) {
      await page.goto(path);
      await expect(page.locator('main')).toBeVisible();
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
      }));
      expect(scrollWidth, `${path} is ${scrollWidth}px wide at ${innerWidth}px`).toBeLessThanOrEqual(innerWidth);
    }
  } finally {
    await context.close();
    await data.cleanup();
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
