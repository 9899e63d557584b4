/**
 * `npm run admin:bootstrap -- --email you@example.com [--name "Your Name"]`: the first admin of an
 * install that has none (production seeds no account). The password comes from
 * BOOTSTRAP_ADMIN_PASSWORD or standard input (typed without echo on a terminal, or piped), never
 * from the command line, where other users of the machine would see it. The database is
 * DATABASE_URL, else the embedded one of the local stack running on PG_PORT (`npm start`).
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createPrisma } from '../server/db/client.ts';
import { loadOrExit, loadStackEnv } from '../server/env.ts';
import { isError, ValidationError } from '../server/errors.ts';
import { bootstrapAdmin } from '../server/services/bootstrap-admin.ts';
import { embeddedDatabaseUrl } from './lib/postgres.ts';

const USAGE = 'usage: npm run admin:bootstrap -- --email you@example.com [--name "Your Name"] (password from BOOTSTRAP_ADMIN_PASSWORD or standard input)';

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

/** One line from standard input; on a terminal, asked for and not echoed. */
async function readPassword(): Promise<string> {
  const terminal = Boolean(process.stdin.isTTY);
  const lines = createInterface({ input: process.stdin, output: terminal ? process.stdout : undefined, terminal });
  if (terminal) {
    process.stdout.write('Password for the first admin: ');
    // Hides what is typed: readline echoes through _writeToOutput, which we silence after the prompt.
    (lines as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  }
  for await (const line of lines) {
    lines.close();
    if (terminal) process.stdout.write('\n');
    return line;
  }
  return '';
}

const { values: args } = (() => {
  try {
    return parseArgs({ options: { email: { type: 'string' }, name: { type: 'string' } } });
  } catch (error) {
    return fail(`${(error as Error).message}\n${USAGE}`);
  }
})();
if (!args.email) fail(USAGE);

const env = loadOrExit(() => loadStackEnv());
const password = env.BOOTSTRAP_ADMIN_PASSWORD ?? (await readPassword());
const databaseUrl = env.DATABASE_URL ?? embeddedDatabaseUrl(env.PG_PORT);
const prisma = createPrisma(databaseUrl);
try {
  const admin = await bootstrapAdmin(prisma, { email: args.email, name: args.name ?? 'Admin', password });
  console.log(`Created the admin ${admin.email}; sign in with it.`);
} catch (error) {
  process.exitCode = 1;
  if (isError(error, ValidationError)) console.error(`Not created: ${error.message}`);
  else {
    const reason = error instanceof Error ? error.message.trim().split('\n').at(-1) : String(error);
    console.error(`Not created: the database at ${new URL(databaseUrl).host} could not be used (${reason}). Is the stack (npm start) running, or DATABASE_URL set?`);
  }
} finally {
  await prisma.$disconnect();
}
