import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/password';
import { createPrisma } from '../../server/db/client';
import { UNREADABLE_MESSAGE } from '../../server/trpc/error-shape';
import { useTestDatabase } from '../support/db';
import { useWebProcess } from '../support/web-process';

/**
 * Input the database cannot hold, and bodies tRPC cannot read, at every entry point that takes
 * text: each is a 400 with a sentence (per field where there is one), never a 500, a stack, a zod
 * issue list, superjson's internals or a database message.
 */

const db = useTestDatabase({ seed: true });
const web = useWebProcess(() => db.url);

const NUL = 'Rocket\u0000Squad';
const LONE_SURROGATE = 'Rocket \uD800Squad';
const UNTOLD = /Cannot destructure|Maximum call stack|deserialize|invalid byte sequence|Prisma|\n\s+at |"code":\s*"invalid_type"|"message":"\[/;

let session: { cookie: string; teamId: string; projectId: string } | undefined;
async function signedIn() {
  if (session) return session;
  const prisma = createPrisma(db.url);
  const email = `bad-input-${Date.now()}@example.com`;
  const user = await prisma.user.create({ data: { name: 'Bad Input', email, passwordHash: await hashPassword('bad-input-password') } });
  const tier = await prisma.tier.findUniqueOrThrow({ where: { name: 'premium' } });
  const team = await prisma.team.create({ data: { name: 'Inputs', slug: `inputs-${Date.now()}`, tierId: tier.id, memberships: { create: { userId: user.id, role: 'owner' } } } });
  const project = await prisma.project.create({ data: { teamId: team.id, name: 'Inputs project' } });
  await prisma.$disconnect();
  const response = await fetch(`${web.url}/login`, { method: 'POST', redirect: 'manual', headers: { origin: web.url }, body: new URLSearchParams({ email, password: 'bad-input-password' }) });
  session = { cookie: response.headers.get('set-cookie')!.split(';')[0]!, teamId: team.id, projectId: project.id };
  return session;
}

interface TrpcError {
  error: { json: { message: string; data: { code: string; httpStatus: number; fieldErrors: Record<string, string> | null; stack?: string } } };
}

async function call(procedure: string, body: string) {
  const { cookie } = await signedIn();
  const response = await fetch(`${web.url}/trpc/${procedure}`, { method: 'POST', headers: { origin: web.url, cookie, 'content-type': 'application/json' }, body });
  const text = await response.text();
  expect(text).not.toMatch(UNTOLD);
  return { status: response.status, error: (JSON.parse(text) as TrpcError).error.json };
}

const inputs = async () => {
  const { teamId, projectId } = await signedIn();
  return {
    'teams.create': (text: string) => ({ name: text }),
    'teams.createProject (name)': (text: string) => ({ teamId, name: text, description: 'fine' }),
    'teams.createProject (description)': (text: string) => ({ teamId, name: 'Fine', description: text }),
    'jobs.submit': (text: string) => ({ projectId, requirements: `Write ${text}`, clientKey: `bad-input-${Date.now()}` }),
    'jobs.submitCollaboration': (text: string) => ({ projectId, task: `Build ${text}`, clientKey: `bad-input-${Date.now()}` }),
  };
};
const fieldOf = { 'teams.create': 'name', 'teams.createProject (name)': 'name', 'teams.createProject (description)': 'description', 'jobs.submit': 'requirements', 'jobs.submitCollaboration': 'task' } as const;
const procedureOf = (entry: string) => entry.split(' ')[0]!;

describe('text the database refuses, through tRPC', () => {
  it.each([
    ['a NUL byte', NUL, /must not contain control characters\.$/],
    ['a lone surrogate', LONE_SURROGATE, /is not valid text \(it holds a broken character\)\.$/],
  ])('answers %s with the field and a sentence', async (_, text, sentence) => {
    for (const [entry, input] of Object.entries(await inputs())) {
      const { status, error } = await call(procedureOf(entry), JSON.stringify({ json: input(text) }));
      expect(status, entry).toBe(400);
      expect(error.message, entry).toMatch(sentence);
      expect(error.data.fieldErrors, entry).toEqual({ [fieldOf[entry as keyof typeof fieldOf]]: error.message });
      expect(error.data.stack, entry).toBeUndefined();
    }
    const prisma = createPrisma(db.url);
    expect(await prisma.team.count({ where: { name: { contains: 'Squad' } } })).toBe(0);
    await prisma.$disconnect();
  });
});

describe('bodies tRPC cannot read', () => {
  it.each([
    ['a null body', 'null', UNREADABLE_MESSAGE],
    ['an empty body', '', UNREADABLE_MESSAGE],
    ['broken JSON', '{"json":', UNREADABLE_MESSAGE],
    ['a null input', '{"json":null}', 'The request has no input, or its input is not an object.'],
    ['superjson meta turning a field into a Date', '{"json":{"name":"Rocket"},"meta":{"values":{"name":["Date"]}}}', 'name must be a string.'],
    ['superjson meta naming an unknown type', '{"json":{"name":"Rocket"},"meta":{"values":{"name":[["custom","nope"]]}}}', UNREADABLE_MESSAGE],
    ['superjson meta of the wrong shape', '{"json":{"name":"Rocket"},"meta":{"values":["undefined"]}}', 'The request has no input, or its input is not an object.'],
  ])('answers %s 400 with a sentence, on every entry point', async (_, body, message) => {
    for (const entry of Object.keys(await inputs())) {
      const { status, error } = await call(procedureOf(entry), body);
      expect(status, entry).toBe(400);
      if (procedureOf(entry) === 'teams.create' || !message.startsWith('name ')) expect(error.message, entry).toBe(message);
    }
  });

  it('answers a batch holding a null input with a sentence for each call (the body is read as a whole)', async () => {
    const { cookie } = await signedIn();
    const response = await fetch(`${web.url}/trpc/teams.create,teams.create?batch=1`, { method: 'POST', headers: { origin: web.url, cookie, 'content-type': 'application/json' }, body: '{"0":null,"1":{"json":{"name":"Rocket\\u0000"}}}' });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).not.toMatch(UNTOLD);
    const [first, second] = JSON.parse(text) as TrpcError[];
    expect(first!.error.json.message).toBe(UNREADABLE_MESSAGE);
    expect(second!.error.json.message).toBe(UNREADABLE_MESSAGE);
  });
});

describe('text the database refuses, through the pages', () => {
  const post = async (path: string, body: BodyInit, headers: Record<string, string> = {}) => {
    const response = await fetch(`${web.url}${path}`, { method: 'POST', redirect: 'manual', headers: { origin: web.url, ...headers }, body });
    const page = await response.text();
    expect(page).not.toMatch(/invalid byte sequence|Prisma|\n\s+at \S+ \(/);
    return { status: response.status, page };
  };

  // A form cannot carry a lone surrogate: it is sent as UTF-8, where one becomes U+FFFD.
  it('refuses a NUL byte in the sign-up form beside the field', async () => {
    const { status, page } = await post('/signup', new URLSearchParams({ name: NUL, email: `nul-${Date.now()}@example.com`, password: 'long-enough-password' }));
    expect(status).toBe(400);
    expect(page).toContain('Your name must not contain control characters.');
  });

  it('refuses a NUL byte in the team form beside the field', async () => {
    const { cookie } = await signedIn();
    const { status, page } = await post('/teams?index', new URLSearchParams({ name: NUL }), { cookie });
    expect(status).toBe(400);
    expect(page).toContain('The team name must not contain control characters.');
  });

  it('answers a body that is not a form 400 on the sign-up and team forms', async () => {
    const { cookie } = await signedIn();
    for (const [path, headers] of [['/signup', {}], ['/teams?index', { cookie }]] as const) {
      const { status, page } = await post(path, 'null', { ...headers, 'content-type': 'application/json' });
      expect(status, path).toBe(400);
      expect(page, path).toContain('The form could not be read.');
    }
  });
});
