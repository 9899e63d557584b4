import type { Page } from '@playwright/test';
import { openTestData } from './data';
import { expect, test } from './fixtures';

/**
 * A team's owner creates, edits and deletes a collaboration template on the team page; each
 * refusal shows beside its field and saves nothing; a member sees the templates and cannot
 * change them; every change is in the audit log.
 */
test('an owner creates, edits and deletes a collaboration template, refusals beside their fields; a member only sees it', async ({ browser, baseURL, signIn }) => {
  test.setTimeout(240_000);
  const data = await openTestData();
  const contexts = await Promise.all([0, 1].map(() => browser.newContext({ baseURL, viewport: { width: 1280, height: 1000 } })));
  try {
    const team = await data.team('Forge', ['Owen', 'Mia']);
    const [owner, member] = (await Promise.all(contexts.map((context) => context.newPage()))) as [Page, Page];
    // The first page of a fresh dev stack is built on demand: on a loaded machine that outlasts a navigation's usual time.
    await owner.goto('/login', { timeout: 120_000 });
    await signIn(owner, team.members[0]!.email, team.members[0]!.password);
    await signIn(member, team.members[1]!.email, team.members[1]!.password);

    await owner.goto(`/teams/${team.id}`);
    const section = owner.getByRole('region', { name: 'Collaboration templates' });
    await expect(section.getByText('No templates of the team’s own yet.')).toBeVisible();
    await section.getByRole('button', { name: 'New template' }).click();
    const form = section.getByRole('form', { name: 'New template' });
    const name = `Pair ${data.suffix}`;
    await form.getByLabel('Name').fill(name);
    // The built-in agents to start from: keep two, renamed; a third added and left empty.
    await form.getByRole('button', { name: 'Remove agent 3' }).click();
    await form.getByRole('group', { name: 'Agent 1' }).getByLabel('Role').fill('planner');
    await form.getByRole('group', { name: 'Agent 2' }).getByLabel('Role').fill('coder');
    await form.getByRole('button', { name: 'Add an agent' }).click();
    // Models are the tier's.
    await expect(form.getByRole('group', { name: 'Agent 3' }).getByLabel('Model').locator('option', { hasText: 'qwen2.5-coder:7b' })).toHaveCount(1);
    await form.getByLabel('Wait for the author or an owner to approve').check();
    await form.getByLabel('Wait at most (seconds)').fill('0');
    await form.getByRole('button', { name: 'Save template' }).click();

    const agent3Role = form.getByRole('group', { name: 'Agent 3' }).getByLabel('Role');
    await expect(agent3Role).toHaveAttribute('aria-invalid', 'true');
    await expect(form.getByRole('group', { name: 'Agent 3' }).getByText('Each step needs a role.')).toBeVisible();
    await expect(form.getByLabel('Wait at most (seconds)')).toHaveAttribute('aria-invalid', 'true');
    await expect(form.getByText('Wait at least 1 second for approval.')).toBeVisible();
    expect(await data.auditOf(team.id)).toEqual([]);

    await agent3Role.fill('tester');
    await form.getByRole('group', { name: 'Agent 3' }).getByLabel('System prompt').fill('You write the tests for the task.');
    await form.getByLabel('Wait at most (seconds)').fill('600');
    await form.getByLabel('Then').selectOption('proceed');
    await form.getByRole('button', { name: 'Save template' }).click();
    await expect(section.getByRole('status')).toHaveText(`Template “${name}” saved.`);
    const row = section.getByTestId('template-row').filter({ hasText: name });
    await expect(row).toContainText('planner, coder, tester; waits for approval');

    // Editing: retrying on another model needs a fallback model, said beside it.
    await row.getByRole('button', { name: `Edit ${name}` }).click();
    const edit = section.getByRole('form', { name: `Edit template ${name}` });
    await expect(edit.getByRole('group', { name: 'Agent 3' }).getByLabel('Role')).toHaveValue('tester');
    await expect(edit.getByLabel('Wait at most (seconds)')).toHaveValue('600');
    await edit.getByLabel('Failure policy').selectOption('retry_other_model');
    await edit.getByRole('button', { name: 'Save template' }).click();
    await expect(edit.getByLabel('Fallback model')).toHaveAttribute('aria-invalid', 'true');
    await expect(edit.getByText('Retrying on another model needs a fallback model.')).toBeVisible();
    await edit.getByLabel('Fallback model').selectOption('qwen2.5-coder:7b');
    await edit.getByRole('group', { name: 'Agent 1' }).getByLabel('Priority').selectOption('high');
    await edit.getByRole('button', { name: 'Save template' }).click();
    await expect(section.getByRole('status')).toHaveText(`Template “${name}” saved.`);

    // A member sees the template, and nothing to change it with.
    await member.goto(`/teams/${team.id}`);
    const seen = member.getByRole('region', { name: 'Collaboration templates' });
    await expect(seen.getByTestId('template-row').filter({ hasText: name })).toContainText('planner, coder, tester');
    await expect(seen.getByRole('button')).toHaveCount(0);

    owner.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: `Delete ${name}` }).click();
    await expect(section.getByRole('status')).toHaveText('Template deleted.');
    await expect(section.getByTestId('template-row')).toHaveCount(0);
    expect(await data.auditOf(team.id)).toEqual(['collaborationTemplate.create', 'collaborationTemplate.update', 'collaborationTemplate.delete']);
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
    await data.cleanup();
  }
});
