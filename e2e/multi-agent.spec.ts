import type { Page } from '@playwright/test';
import { openTestData } from './data';
import { expect, test } from './fixtures';

const MODEL = 'qwen2.5-coder:7b';
const step = (role: string, priority: 'normal' | 'high' = 'normal') => ({ role, systemPrompt: `You are the team's ${role}. Answer with code.`, model: MODEL, priority });

/** Saves a team template through tRPC from the signed-in page (the browser sends its session and origin). */
async function saveTemplate(page: Page, teamId: string, template: unknown) {
  const answer = await page.evaluate(
    async (body) => {
      const response = await fetch('/trpc/collaborations.saveTemplate', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: response.status, text: await response.text() };
    },
    JSON.stringify({ json: { teamId, template } }),
  );
  expect(answer.status, answer.text).toBe(200);
}

test('A and B of one team watch a collaboration as a live tree, A approves with an edit, both see the result; C of another team sees only counts', async ({ browser, baseURL, signIn }) => {
  test.setTimeout(180_000);
  const data = await openTestData();
  const contexts = await Promise.all([0, 1, 2].map(() => browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } })));
  try {
    const rockets = await data.team('Orbit', ['Ada', 'Bo']);
    const others = await data.team('Quay', ['Cy']);
    const [a, b, c] = (await Promise.all(contexts.map((context) => context.newPage()))) as [Page, Page, Page];
    const [ada, bo] = rockets.members as [(typeof rockets.members)[0], (typeof rockets.members)[0]];
    const cy = others.members[0]!;
    await signIn(a, ada.email, ada.password);
    await signIn(b, bo.email, bo.password);
    await signIn(c, cy.email, cy.password);

    // Ada owns the team: she saves a two-agent template that waits for approval.
    await a.goto(`/projects/${rockets.project.id}`);
    const templateName = `Pair with approval ${data.suffix}`;
    await saveTemplate(a, rockets.id, {
      name: templateName,
      agents: [step('planner', 'high'), step('coder')],
      integrator: step('integrator'),
      reviewer: step('reviewer'),
      failurePolicy: 'proceed',
      approval: true,
      approvalTimeoutSeconds: 3600,
      approvalTimeoutAction: 'cancel',
    });
    await a.reload();
    await b.goto(`/projects/${rockets.project.id}`);

    // Slow enough to watch the agents stream.
    await data.slowGeneration(4);
    const form = a.getByRole('form', { name: 'New collaboration' });
    await expect(form.getByLabel('Template')).toHaveValue('');
    await form.getByLabel('Task').fill(`A URL shortener with its API and its UI (${data.suffix})`);
    await form.getByLabel('Template').selectOption({ label: templateName });
    await form.getByRole('button', { name: 'Start collaboration' }).click();
    const task = `A URL shortener with its API and its UI (${data.suffix})`;
    const aRun = a.getByRole('article', { name: 'Collaboration' });
    await expect(aRun.getByRole('heading', { name: task })).toBeVisible();

    // Bo opens it from the project's history and watches both agents stream, live.
    await b.getByRole('region', { name: 'Jobs' }).getByRole('link', { name: new RegExp(task.replace(/[()]/g, '\\$&')) }).click();
    const bRun = b.getByRole('article', { name: 'Collaboration' });
    const bCoder = bRun.getByTestId('step-output-agent-1');
    await expect(bCoder).toContainText(/\S{3,}/, { timeout: 60_000 });
    const seen = (await bCoder.textContent())!.length;
    // Fixed-height steps: the text growing above never moves the steps below. Measured from the
    // coder's own step, so a scroll of the page or a change above the tree does not count.
    const coder = bRun.getByRole('listitem', { name: 'coder' });
    const integrator = bRun.getByRole('listitem', { name: 'integrator' });
    const gap = async () => {
      const [top, below] = await Promise.all([coder.boundingBox(), integrator.boundingBox()]);
      return { offset: below!.y - top!.y, coderHeight: top!.height, integratorHeight: below!.height };
    };
    const before = await gap();
    await expect.poll(async () => (await bCoder.textContent())!.length, { timeout: 30_000 }).toBeGreaterThan(seen);
    expect(await gap()).toEqual(before);
    await expect(bRun.getByRole('listitem', { name: 'coder' }).getByText('Running')).toBeVisible();
    await expect(bRun.getByRole('listitem', { name: 'integrator' }).getByText('Queued')).toBeVisible();
    await expect(bRun.getByRole('link', { name: 'workflow' })).toHaveCount(5);

    // Cy's queue shows Orbit's work only as another team's counts.
    await c.getByRole('link', { name: 'Queue' }).click();
    const pool = c.getByRole('region', { name: 'Pool local' });
    await expect(pool.getByText(/\d+ running/)).toBeVisible();
    await expect(pool.getByText(/\d+ jobs? from other teams (running|ahead|waiting)/).first()).toBeVisible();
    const cText = await c.locator('main').innerText();
    for (const secret of [task, ada.name, bo.name, rockets.name, rockets.project.name, 'planner', 'coder']) expect(cText).not.toContain(secret);

    await data.slowGeneration(1);
    // Both see whom it waits for; only Ada (author and owner) may decide.
    await expect(bRun.getByTestId('approval')).toContainText(`Waiting for approval from ${ada.name}`, { timeout: 90_000 });
    await expect(bRun.getByRole('button', { name: 'Approve' })).toHaveCount(0);
    await expect(aRun.getByTestId('approval')).toContainText(`Waiting for approval from ${ada.name}`);
    const edited = `Use a hash of the URL as its key. ${data.suffix}`;
    await aRun.getByText('Edit the coder’s output').click();
    await aRun.getByLabel('coder output').fill(edited);
    await aRun.getByRole('button', { name: 'Approve' }).click();

    // Both see the finished run: every output side by side, the edit kept.
    for (const run of [aRun, bRun]) {
      await expect(run.getByTestId('approval')).toContainText(`Approved by ${ada.name}, with 1 output(s) edited`, { timeout: 30_000 });
      await expect(run.getByRole('region', { name: 'Outputs side by side' })).toBeVisible({ timeout: 90_000 });
      await expect(run.getByTestId('final-agent-1')).toContainText(edited);
      await expect(run.getByTestId('final-integration')).toContainText(/\S{3,}/);
      await expect(run.getByTestId('final-review')).toContainText(/\S{3,}/);
      await expect(run.getByRole('button', { name: 'Download' })).toHaveCount(4);
    }
    await expect(bRun.locator('header').getByText('Completed')).toBeVisible();
  } finally {
    await data.slowGeneration(1).catch(() => undefined);
    await Promise.all(contexts.map((context) => context.close()));
    await data.cleanup();
  }
});
