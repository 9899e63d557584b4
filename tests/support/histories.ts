import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Client } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../scripts/lib/paths';
import { loadStackEnv } from '../../server/env';
import { until } from './until';

/** Recorded workflow histories, one folder per version (see workflows/README.md). */
export const HISTORIES_ROOT = path.join(repoRoot, 'workflows/histories');

/** This version's folder, `v<major>.<minor>` of package.json's version. */
export const CURRENT_VERSION = ((): string => {
  const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const [major, minor] = version.split('.');
  return `v${major}.${minor}`;
})();

/**
 * Every scenario this version keeps a history of, and the test file whose run produces it
 * (`npm run histories:record` runs those files). The replay test expects exactly these.
 */
export const HISTORY_SCENARIOS = {
  'job-happy-path': 'tests/jobs/path.test.ts',
  'job-failover': 'tests/jobs/workflow.test.ts',
  'job-resumed-after-worker-crash': 'tests/jobs/workflow.test.ts',
  'job-review-timed-out': 'tests/jobs/workflow.test.ts',
  'job-dead-letter': 'tests/jobs/workflow.test.ts',
  'scheduler-after-storm': 'tests/scheduler/scheduler.test.ts',
  'scheduler-hand-over': 'tests/scheduler/continue-as-new.test.ts',
  'resource-manager': 'tests/resources/resource-manager.test.ts',
  'chat-streamed': 'tests/api/openai-compat.test.ts',
  'webhook-retried': 'tests/notifications/webhooks.test.ts',
  'review-through-worker-crash': 'tests/jobs/review.test.ts',
  'review-item': 'tests/jobs/review.test.ts',
  'review-cancelled': 'tests/jobs/review.test.ts',
  'collaboration-full-run': 'tests/jobs/collaboration.test.ts',
  'collaboration-step': 'tests/jobs/collaboration.test.ts',
  'collaboration-agent-missing': 'tests/jobs/collaboration.test.ts',
  'collaboration-approved-with-edit': 'tests/jobs/collaboration.test.ts',
  'collaboration-approval-timed-out': 'tests/jobs/collaboration.test.ts',
  'collaboration-through-worker-crash': 'tests/jobs/collaboration-crash.test.ts',
} as const;

export type HistoryScenario = keyof typeof HISTORY_SCENARIOS;

/**
 * A history file: the history as Temporal exports it (JSON), with its workflow's id, which
 * histories do not hold and a replay would otherwise make up (the scheduler reads its own).
 */
export interface RecordedHistory {
  workflowId: string;
  history: unknown;
}

/**
 * Writes the history of a workflow run (its latest, or `runId`) for the replay test, when
 * `npm run histories:record` runs the tests (RECORD_HISTORIES); otherwise does nothing. Waits
 * for the run to close unless `open` (a scheduler that runs on: recorded as far as it got).
 */
export async function recordHistory(
  client: Client,
  scenario: HistoryScenario,
  workflowId: string,
  { runId, open = false }: { runId?: string; open?: boolean } = {},
): Promise<void> {
  const folder = loadStackEnv().RECORD_HISTORIES;
  if (!folder) return;
  const handle = client.workflow.getHandle(workflowId, runId);
  if (!open) await until(async () => (await handle.describe()).status.name !== 'RUNNING', `${workflowId} to close`);
  const recorded = { workflowId, history: JSON.parse(historyToJSON(await handle.fetchHistory())) as unknown } satisfies RecordedHistory;
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, `${scenario}.json`), `${JSON.stringify(recorded)}\n`);
}
