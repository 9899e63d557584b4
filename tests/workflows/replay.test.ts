import { Worker } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HISTORIES_DIR as dir } from '../support/histories';
import { workflowBundle } from '../support/temporal';

const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];

// Histories recorded from real runs (server/job-workflow.test.ts and server/scheduler.test.ts
// write missing ones). A change to
// a workflow that would break runs in flight fails here; re-record only for a deliberate break.
describe('workflow replay', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('replays %s without nondeterminism', async (file) => {
    const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
  });
});
