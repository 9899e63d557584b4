import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDatabase } from '../../prisma/seed';
import { verifyPassword } from '../../server/auth/password';
import { createPrisma, type PrismaClient } from '../../server/db/client';
import { bootstrapAdmin } from '../../server/services/bootstrap-admin';
import { repoRoot } from '../../scripts/lib/paths';
import { createTestDatabase, type TestDatabase } from '../support/db';

/** `npm run admin:bootstrap` as an operator runs it, against a database seeded as production is. */
function bootstrap(databaseUrl: string, args: string[], { stdin = '', env = {} }: { stdin?: string; env?: Record<string, string> } = {}) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bootstrap-admin.ts', ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: databaseUrl, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdin.end(stdin);
    child.once('exit', (code) => resolve({ code, output: output.trim() }));
  });
}

async function productionDatabase() {
  const db = await createTestDatabase();
  await seedDatabase(db.url, { demo: false });
  return { db, prisma: createPrisma(db.url) };
}

let first: { db: TestDatabase; prisma: PrismaClient };
beforeAll(async () => {
  first = await productionDatabase();
});
afterAll(async () => {
  await first?.prisma.$disconnect();
  await first?.db.drop();
});

describe('npm run admin:bootstrap', () => {
  it('makes the first admin with the password read from standard input, once', async () => {
    const { db, prisma } = first;
    expect(await prisma.user.count()).toBe(0);
    const made = await bootstrap(db.url, ['--email', ' Ops@Example.com ', '--name', 'Ops'], { stdin: 'a long admin password\n' });
    expect(made).toEqual({ code: 0, output: 'Created the admin ops@example.com; sign in with it.' });
    const admin = await prisma.user.findUniqueOrThrow({ where: { email: 'ops@example.com' } });
    expect(admin).toMatchObject({ name: 'Ops', isAdmin: true });
    expect(await verifyPassword(admin.passwordHash, 'a long admin password')).toBe(true);
    expect(await prisma.auditLog.count({ where: { action: 'admin.bootstrap', targetId: admin.id } })).toBe(1);

    // The door is shut once an admin exists, whoever knocks and however.
    const again = await bootstrap(db.url, ['--email', 'mallory@example.com'], { env: { BOOTSTRAP_ADMIN_PASSWORD: 'another long password' } });
    expect(again.code).toBe(1);
    expect(again.output).toBe('Not created: An admin already exists (ops@example.com): the bootstrap is only for an install that has none.');
    expect(await prisma.user.count()).toBe(1);
  });

  it('takes the password from BOOTSTRAP_ADMIN_PASSWORD, and refuses bad input with a sentence, creating nothing', async () => {
    const { db, prisma } = await productionDatabase();
    try {
      const usage = await bootstrap(db.url, [], { stdin: 'a long admin password\n' });
      expect(usage.code).toBe(1);
      expect(usage.output).toMatch(/^usage: npm run admin:bootstrap -- --email/);
      const short = await bootstrap(db.url, ['--email', 'ops@example.com'], { stdin: 'short\n' });
      expect(short).toEqual({ code: 1, output: 'Not created: Use at least 10 characters.' });
      const badEmail = await bootstrap(db.url, ['--email', 'not-an-email'], { stdin: 'a long admin password\n' });
      expect(badEmail).toEqual({ code: 1, output: 'Not created: Enter a valid email address.' });
      expect(await prisma.user.count()).toBe(0);

      const made = await bootstrap(db.url, ['--email', 'ops@example.com'], { env: { BOOTSTRAP_ADMIN_PASSWORD: 'from the environment' } });
      expect(made.code).toBe(0);
      const admin = await prisma.user.findUniqueOrThrow({ where: { email: 'ops@example.com' } });
      expect(admin).toMatchObject({ name: 'Admin', isAdmin: true });
      expect(await verifyPassword(admin.passwordHash, 'from the environment')).toBe(true);
    } finally {
      await prisma.$disconnect();
      await db.drop();
    }
  });

  it('names an unreachable database instead of printing a stack', async () => {
    const result = await bootstrap('postgresql://nobody@127.0.0.1:1/none', ['--email', 'ops@example.com'], { stdin: 'a long admin password\n' });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^Not created: the database at 127\.0\.0\.1:1 could not be used \(.*\)\. Is the stack \(npm start\) running, or DATABASE_URL set\?$/);
  });

  it('lets exactly one of two concurrent bootstraps through, and never adopts an existing account', async () => {
    const { db, prisma } = await productionDatabase();
    try {
      await prisma.user.create({ data: { email: 'taken@example.com', name: 'Taken', passwordHash: 'x' } });
      await expect(bootstrapAdmin(prisma, { email: 'taken@example.com', name: 'T', password: 'a long admin password' })).rejects.toThrow(/already exists; choose another email/);
      const results = await Promise.allSettled([
        bootstrapAdmin(prisma, { email: 'a@example.com', name: 'A', password: 'a long admin password' }),
        bootstrapAdmin(prisma, { email: 'b@example.com', name: 'B', password: 'a long admin password' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await prisma.user.count({ where: { isAdmin: true } })).toBe(1);
      expect((await prisma.user.findUniqueOrThrow({ where: { email: 'taken@example.com' } })).isAdmin).toBe(false);
    } finally {
      await prisma.$disconnect();
      await db.drop();
    }
  });
});
