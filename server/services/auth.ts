import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { formatUtc, LimitError, UnauthorizedError, ValidationError } from '../errors';
import { hashPassword, verifyPassword } from '../auth/password';
import type { SessionStore } from '../auth/session';
import { signUpInput, type SignUpInput } from '../auth/signup-input';

// Sign-in: failures per email, to slow password guessing.
const SIGN_IN = { windowMs: 15 * 60 * 1000, max: 10 };
// Sign-up: attempts per client address, to slow mass account creation and probing which emails
// have accounts (a taken email is an answer too, so those attempts count).
const SIGN_UP = { windowMs: 60 * 60 * 1000, max: 10 };

// Compared against when the email is unknown, so both cases take the same time.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$2LWTDmEkteSXAyKb3m69vw$rCsLLmvaKuEUdpFtbsX41/Ipd+Gh8C4A+s/uSo/USkA';

const EMAIL_TAKEN = 'An account with this email already exists. Sign in instead.';

/**
 * Counts events per key over a sliding window. In memory: each web process limits on its own, so
 * with N processes behind a balancer a client gets up to N times the limit.
 */
function createRateLimiter({ windowMs, max }: { windowMs: number; max: number }) {
  const events = new Map<string, number[]>();
  const recent = (key: string, now: number) => {
    const list = (events.get(key) ?? []).filter((t) => now - t < windowMs);
    if (list.length > 0) events.set(key, list);
    else events.delete(key);
    return list;
  };
  return {
    /** When `key` may try again, if it is at its limit now; null if it may go ahead. */
    blockedUntil(key: string, now: number): Date | null {
      const list = recent(key, now);
      return list.length >= max ? new Date(list[0]! + windowMs) : null;
    },
    record(key: string, now: number) {
      events.set(key, [...recent(key, now), now]);
    },
    reset(key: string) {
      events.delete(key);
    },
  };
}

export function createAuthService({ prisma, sessions }: { prisma: PrismaClient; sessions: SessionStore }) {
  const signInFailures = createRateLimiter(SIGN_IN);
  const signUpAttempts = createRateLimiter(SIGN_UP);

  return {
    /** Email and password to a new session; throttled per email to slow password guessing. */
    async signIn(email: string, password: string) {
      const key = email.toLowerCase();
      const now = Date.now();
      const blockedUntil = signInFailures.blockedUntil(key, now);
      if (blockedUntil) {
        throw new LimitError(`Too many failed sign-in attempts; try again after ${formatUtc(blockedUntil)}.`, blockedUntil);
      }
      const user = await prisma.user.findUnique({ where: { email: key }, select: { id: true, passwordHash: true } });
      const ok = await verifyPassword(user?.passwordHash ?? DUMMY_HASH, password);
      if (!user || !ok) {
        signInFailures.record(key, now);
        throw new UnauthorizedError('Wrong email or password.');
      }
      signInFailures.reset(key);
      return sessions.create(user.id);
    },

    /** A new account and its first session, for a client at `ip`. The user belongs to no team yet. */
    async signUp(input: SignUpInput, client: { ip: string }) {
      const parsed = signUpInput.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new ValidationError(issue.message, String(issue.path[0] ?? ''));
      }
      const now = Date.now();
      const blockedUntil = signUpAttempts.blockedUntil(client.ip, now);
      if (blockedUntil) {
        throw new LimitError(`Too many sign-ups from your network; try again after ${formatUtc(blockedUntil)}.`, blockedUntil);
      }
      signUpAttempts.record(client.ip, now);
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
