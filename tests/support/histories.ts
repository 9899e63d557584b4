import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { Client } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../scripts/lib/paths';

export const HISTORIES_DIR = path.join(repoRoot, 'workflows/histories');

/**
 * Keeps a workflow's history (its latest run, or `runId`) for workflows/replay.test.ts. Existing recordings are never
 * overwritten: they stand for runs already in flight when the code changes.
 */
export async function recordHistory(client: Client, name: string, workflowId: string, runId?: string): Promise<void> {
  const file = path.join(HISTORIES_DIR, `${name}.json`);
  if (fs.existsSync(file)) return;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  fs.mkdirSync(HISTORIES_DIR, { recursive: true });
  fs.writeFileSync(file, historyToJSON(history));
}
