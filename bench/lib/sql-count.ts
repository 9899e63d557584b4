import { openSync, readSync, closeSync, statSync } from 'node:fs';
import pg from 'pg';

export interface StatementCount {
  jobs: number;
  /** Every statement PostgreSQL executed while the jobs ran (web, worker, background work included), per job. */
  statementsPerJob: number;
  /** The same, by statement (text up to its first parameter or 80 characters), most frequent first. */
  byStatement: { statement: string; perJob: number }[];
}

/**
 * SQL statements per job, counted by PostgreSQL itself: statement logging is switched on for the
 * window of `run` (ALTER SYSTEM + reload, no restart) and the LOG lines it adds to the stack's log
 * are counted. A figure that does not depend on the machine's load, unlike CPU per job; BEGIN and
 * COMMIT count as statements.
 */
export async function countStatements(databaseUrl: string, logFile: string, run: () => Promise<number>): Promise<StatementCount> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const setLogging = async (value: 'all' | 'none') => {
    await admin.query(`ALTER SYSTEM SET log_statement = '${value}'`);
    await admin.query('SELECT pg_reload_conf()');
    // The reload is asynchronous: once a new session sees the value, the postmaster has re-read
    // it and signalled every session, and each applies it before its next statement.
    for (;;) {
      const probe = new pg.Client({ connectionString: databaseUrl });
      await probe.connect();
      const { rows } = await probe.query<{ log_statement: string }>('SHOW log_statement').finally(() => probe.end());
      if (rows[0]?.log_statement === value) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  try {
    await setLogging('all');
    const from = statSync(logFile).size;
    const jobs = await run();
    await setLogging('none');
    await settled(logFile);
    const text = readFrom(logFile, from);
    const counts = new Map<string, number>();
    // Simple protocol: "LOG:  statement: …"; extended (Prisma's pg adapter): "LOG:  execute <name>: …".
    const lines = text.split('\n');
    for (const [i, line] of lines.entries()) {
      const match = /LOG: {2}(?:statement|execute [^:]*): (.*)/.exec(line);
      if (!match) continue;
      // A statement written over several lines (raw SQL) is named by its first line of text.
      const statement = match[1]!.trim() || (lines[i + 1] ?? '').replace(/^\[\w+\] /, '').trim();
      if (/pg_reload_conf|ALTER SYSTEM/.test(statement)) continue;
      const key = statement.replace(/\$\d.*$/, '').slice(0, 80).trim();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const perJob = (n: number) => Math.round((n / jobs) * 100) / 100;
    return {
      jobs,
      statementsPerJob: perJob(total),
      byStatement: [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([statement, n]) => ({ statement, perJob: perJob(n) })),
    };
  } finally {
    await setLogging('none').catch(() => {});
    await admin.end();
  }
}

function readFrom(file: string, offset: number): string {
  const size = statSync(file).size;
  const buffer = Buffer.alloc(Math.max(0, size - offset));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, offset);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

/** Waits until the stack's log stops growing (10 s at most): its lines arrive through the supervisor's pipes. */
async function settled(file: string): Promise<void> {
  let size = -1;
  const deadline = Date.now() + 10_000;
  while (statSync(file).size !== size && Date.now() < deadline) {
    size = statSync(file).size;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
