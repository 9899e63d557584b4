import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { LimitError, UnauthorizedError, ValidationError } from '../errors';
import { hashPassword, verifyPassword } from '../auth/password';
import type { SessionStore } from '../auth/session';
import { signUpInput, type SignUpInput } from '../auth/signup-input';

const WINDOW_MS = 15 * 60 * 1000;
const MAX_FAILURES = 10;

// Compared against when the email is unknown, so both cases take the same time.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$2LWTDmEkteSXAyKb3m69vw$rCsLLmvaKuEUdpFtbsX41/Ipd+Gh8C4A+s/uSo/USkA';

const EMAIL_TAKEN = 'An account with this email already exists. Sign in instead.';

export function createAuthService({ prisma, sessions }: { prisma: PrismaClient; sessions: SessionStore }) {
  const failures = new Map<string, number[]>();

  function recentFailures(key: string, now: number): number[] {
    const recent = (failures.get(key) ?? []).filter((t) => now - t < WINDOW_MS);
    failures.set(key, recent);
    return recent;
  }

  return {
    /** Email and password to a new session; throttled per email to slow password guessing. */
    async signIn(email: string, password: string) {
      const key = email.toLowerCase();
      const now = Date.now();
      const recent = recentFailures(key, now);
      if (recent.length >= MAX_FAILURES) {
        throw new LimitError('Too many failed sign-in attempts; try again later.', new Date(recent[0]! + WINDOW_MS));
      }
      const user = await prisma.user.findUnique({ where: { email: key }, select: { id: true, passwordHash: true } });
      const ok = await verifyPassword(user?.passwordHash ?? DUMMY_HASH, password);
      if (!user || !ok) {
        recent.push(now);
        throw new UnauthorizedError('Wrong email or password.');
      }
      failures.delete(key);
      return sessions.create(user.id);
    },

    /** A new account and its first session. The user belongs to no team yet. */
    async signUp(input: SignUpInput) {
      const parsed = signUpInput.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new ValidationError(issue.message, String(issue.path[0] ?? ''));
      }
      const { name, email, password } = parsed.data;
      if (await prisma.user.count({ where: { email } })) throw new ValidationError(EMAIL_TAKEN, 'email');
      const passwordHash = await hashPassword(password);
      const user = await prisma.user
        .create({ data: { name, email, passwordHash }, select: { id: true } })
        .catch((error: unknown) => {
          // Two sign-ups with one email at once: the unique index decides.
          if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
            throw new ValidationError(EMAIL_TAKEN, 'email');
          }
          throw error;
        });
      await prisma.auditLog.create({ data: { actorId: user.id, action: 'user.signup', targetType: 'user', targetId: user.id } });
      return { userId: user.id, ...(await sessions.create(user.id)) };
    },

    signOut(token: string | undefined) {
      return sessions.destroy(token);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
