import { parseArgs } from 'node:util';
import { loadOrExit, loadStackEnv } from '../server/env';
import { startProcessLogger } from '../server/log';
import { PortInUseError } from './lib/ports';
import { StackError, startStack } from './lib/stack';
import { TemporalCliMissingError } from './lib/temporal-cli';

/**
 * `npm run dev`: the whole stack from sources, data kept in .data/.
 * `npm start` (`--prod`): the same around the production build (`npm run build` first).
 * Ctrl-C stops every process. A worker or web process that dies is started again with backoff
 * (the log says so) while the rest keeps running; any other process that dies stops the stack.
 * `--data-dir DIR` keeps the data elsewhere than .data/ (a second stack beside a running one).
 */

const { values: args } = parseArgs({
  options: { prod: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
});
const prod = args.prod;
const stackEnv = loadOrExit(() => loadStackEnv());
const logger = startProcessLogger('dev', stackEnv);
const started = Date.now();

try {
  const stack = await startStack({ mode: prod ? 'prod' : 'dev', stackEnv, dataDir: args['data-dir'], handleSignals: true, logger });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const lines = [
    `Switchyard ${prod ? '(production build)' : '(development)'} is up in ${seconds}s`,
    `  web          ${stack.webUrl}`,
    `  Temporal UI  ${stack.temporalUiUrl ?? '(headless)'}`,
    `  Temporal     ${stack.temporalAddress}`,
    `  database     ${stack.databaseUrl}`,
    `  LLM backends ${stack.ollamaUrls.join(', ')}`,
    stack.demoData
      ? '  sign in as demo@switchyard.dev / demo-password (admin@switchyard.dev / admin-password)'
      : '  no demo accounts in production: create the first admin with `npm run admin:bootstrap -- --email you@example.com`',
    '  Ctrl-C stops everything.',
  ];
  stack.supervisor.log('stack', lines.join('\n'));
  const failure = await stack.done;
  process.exit(failure ? 1 : 0);
} catch (error) {
  // Ctrl-C during start-up: everything is stopped already; nothing to explain.
  if (error instanceof StackError && error.interrupted) process.exit(130);
  if (error instanceof StackError || error instanceof PortInUseError || error instanceof TemporalCliMissingError) {
    console.error(`\n${error.message}`);
    process.exit(1);
  }
  throw error;
}
