import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENCRYPTED_ENCODING } from '../../server/temporal/codec';
import { CURRENT_VERSION, HISTORIES_ROOT, HISTORY_SCENARIOS, type RecordedHistory } from '../support/histories';
import { testDataConverter, workflowBundle } from '../support/temporal';

/**
 * Every kept version's recorded histories (workflows/histories/<version>/, recorded by
 * `npm run histories:record`) replayed against the current workflow code: a change that would
 * break runs of a kept version fails here. See workflows/README.md for when to re-record.
 */

// A replay worker logs every state change at INFO; keep warnings (a nondeterminism names its event).
Runtime.install({ logger: new DefaultLogger('WARN') });

const jsonIn = (folder: string) => (fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.endsWith('.json')).sort() : []);
const versions = fs.existsSync(HISTORIES_ROOT)
  ? fs.readdirSync(HISTORIES_ROOT).filter((entry) => fs.statSync(path.join(HISTORIES_ROOT, entry)).isDirectory())
  : [];
const files = versions.flatMap((version) => jsonIn(path.join(HISTORIES_ROOT, version)).map((file) => path.join(version, file)));

describe('workflow replay', () => {
  // Built once per test run by whichever file asks first: on a busy machine that takes longer than a test may.
  let bundle: { codePath: string };
  beforeAll(async () => {
    bundle = await workflowBundle();
  }, 180_000);

  it(`has a history of every scenario of ${CURRENT_VERSION}`, () => {
    const recorded = jsonIn(path.join(HISTORIES_ROOT, CURRENT_VERSION)).map((file) => file.replace(/\.json$/, ''));
    expect(recorded).toEqual(Object.keys(HISTORY_SCENARIOS).sort());
  });

  it(`holds ${CURRENT_VERSION}'s histories sealed by the payload codec, so replay opens them as workers do`, () => {
    const sealed = Buffer.from(ENCRYPTED_ENCODING).toString('base64');
    for (const file of jsonIn(path.join(HISTORIES_ROOT, CURRENT_VERSION))) {
      expect(fs.readFileSync(path.join(HISTORIES_ROOT, CURRENT_VERSION, file), 'utf8'), file).toContain(`"encoding":"${sealed}"`);
    }
  });

  it.each(files)('replays %s without nondeterminism', async (file) => {
    const { workflowId, history } = JSON.parse(fs.readFileSync(path.join(HISTORIES_ROOT, file), 'utf8')) as RecordedHistory;
    // With the codec, as the workers run: payloads it sealed open, older plain ones pass through.
    await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: testDataConverter }, history, workflowId);
  });
});
