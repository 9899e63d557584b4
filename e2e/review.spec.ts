import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openTestData } from './data';
import { expect, test } from './fixtures';

/**
 * A repository reviewed from the browser: a folder chosen in the form (binary files and
 * node_modules left out), progress as files are reviewed, the findings of one file shown over its
 * code.
 */
test('a member uploads a small repository, watches it reviewed and opens the findings on a file', async ({ page, signIn }) => {
  const data = await openTestData();
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'review-repo-'));
  try {
    for (const [file, content] of Object.entries({
      'src/parse.ts': 'export function parse(text: string) {\n  return JSON.parse(text);\n}\n',
      'src/sum.ts': 'export function sum(xs: number[]) {\n  let total = 0;\n  for (let i = 0; i <= xs.length; i++) total += xs[i];\n  return total;\n}\n',
      'lib/util.py': 'def first(items):\n    return items[0]\n',
      'node_modules/dep/index.js': 'module.exports = 1;\n',
    })) {
      fs.mkdirSync(path.join(repo, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(repo, file), content);
    }
    fs.writeFileSync(path.join(repo, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));

    const team = await data.team('Review', ['Rita']);
    await signIn(page, team.members[0]!.email, team.members[0]!.password);
    await page.goto(`/projects/${team.project.id}`);
    const form = page.getByRole('form', { name: 'New review' });
    await form.getByLabel('A folder', { exact: true }).setInputFiles(repo);
    await expect(form.getByRole('status')).toContainText('3 files to review');
    await expect(form.getByRole('status')).toContainText('logo.png (binary)');
    await form.getByRole('button', { name: 'Review' }).click();

    const job = page.getByRole('article', { name: 'Job' });
    await expect(job.getByText(/Review of 3 files/).first()).toBeVisible();
    await expect(job.getByTestId('review-progress')).toContainText(/of 3 files and chunks reviewed/);
    await expect(job.getByTestId('review-progress')).toContainText('3 of 3', { timeout: 60_000 });
    await expect(job.getByText('Completed')).toBeVisible({ timeout: 30_000 });
    await expect(job.getByText(/^Reviewed 3 files: /)).toBeVisible();

    await job.getByRole('button', { name: /src\/sum\.ts/ }).click();
    // A folder's files are named under the folder, as the browser gives them.
    const findings = job.getByRole('article', { name: /^Findings in review-repo-\w+\/src\/sum\.ts$/ });
    await expect(findings.getByRole('table', { name: /^Code of .*src\/sum\.ts$/ })).toContainText('total += xs[i]');
    await expect(findings.getByTestId('finding').first()).toBeVisible();
    await expect(findings.getByTestId('finding').first()).toContainText(/line \d/);
    // The code is highlighted line by line.
    await expect(findings.locator('.hljs-keyword').first()).toBeVisible();
  } finally {
    fs.rmSync(repo, { recursive: true, force: true });
    await data.cleanup();
  }
});
