import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { formatUtc, LimitError, UnauthorizedError, ValidationError } from '../errors';
import { createLimiter } from '../auth/limiter';
import { hashPassword, verifyPassword } from '../auth/password';
import type { SessionStore, SessionUser } from '../auth/session';
import { newPasswordInput, signUpInput, type SignUpInput } from '../auth/signup-input';

// Sign-in failures are counted per account and per client address, in PostgreSQL (every web
// process sees them). An account under attack locks — but not for a browser that has signed in to
// it before (its device cookie), so a stranger's guesses cannot lock its owner out. An address
// trying many accounts (password spraying) is blocked on its own.
const SIGN_IN_ACCOUNT = { kind: 'signin-account', windowMs: 15 * 60 * 1000, max: 10 };
const SIGN_IN_ADDRESS = { kind: 'signin-ip', windowMs: 15 * 60 * 1000, max: 30 };
// Sign-up: attempts per client address, to slow mass account creation and probing which emails
// have accounts (a taken email is an answer too, so those attempts count).
const SIGN_UP = { kind: 'signup-ip', windowMs: 60 * 60 * 1000, max: 10 };
/** RFC 5321's limit; a longer "email" is not looked up or counted. */
export const MAX_EMAIL_LENGTH = 254;

// Compared against when the email is unknown, so both cases take the same time.
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$2LWTDmEkteSXAyKb3m69vw$rCsLLmvaKuEUdpFtbsX41/Ipd+Gh8C4A+s/uSo/USkA';

const EMAIL_TAKEN = 'An account with this email already exists. Sign in instead.';
const WRONG = 'Wrong email or password.';

export interface Client {
  /** The HTTP client's address. */
  ip: string;
  /** Its device cookie, if it has one. */
  device?: string | undefined;
}

export function createAuthService({ prisma, sessions }: { prisma: PrismaClient; sessions: SessionStore }) {
  const accountFailures = createLimiter(prisma, SIGN_IN_ACCOUNT);
  const addressFailures = createLimiter(prisma, SIGN_IN_ADDRESS);
  const signUpAttempts = createLimiter(prisma, SIGN_UP);
  const sessionsEnded = new Set<(sessionIds: string[]) => void>();
  const ended = (sessionIds: (string | null)[]) => {
    const ids = sessionIds.filter((id): id is string => id !== null);
    if (ids.length > 0) for (const listener of sessionsEnded) listener(ids);
  };

  /** A new session, and a device token marking this browser as one that signed in to `userId`. */
  async function start(userId: string) {
    return { ...(await sessions.create(userId)), device: sessions.deviceToken(userId) };
  }

  return {
    /** Email and password to a new session; limited per account and per client address. */
    async signIn(email: string, password: string, client: Client) {
      const key = email.trim().toLowerCase();
      if (key.length > MAX_EMAIL_LENGTH) throw new UnauthorizedError(WRONG);
      const addressBlocked = await addressFailures.blockedUntil(client.ip);
      if (addressBlocked) {
        throw new LimitError(`Too many failed sign-in attempts from your network; try again after ${formatUtc(addressBlocked)}.`, addressBlocked);
      }
      const user = await prisma.user.findUnique({ where: { email: key }, select: { id: true, passwordHash: true } });
      const accountBlocked = await accountFailures.blockedUntil(key);
      if (accountBlocked && !(user && sessions.isKnownDevice(client.device, user.id))) {
        throw new LimitError(`Too many failed sign-in attempts; try again after ${formatUtc(accountBlocked)}.`, accountBlocked);
      }
      const ok = await verifyPassword(user?.passwordHash ?? DUMMY_HASH, password);
      if (!user || !ok) {
        await Promise.all([accountFailures.record(key), addressFailures.record(client.ip)]);
        throw new UnauthorizedError(WRONG);
      }
      // A typo's count is forgotten once the owner gets in, but not a lock the owner passed by
      // device: the guesser's window stays shut. Nor is the address's count reset: signing in to
      // one's own account must not renew a spraying budget.
      if (!accountBlocked) await accountFailures.reset(key);
      return start(user.id);
    },

    /** A new account and its first session, for a client at `ip`. The user belongs to no team yet. */
    async signUp(input: SignUpInput, client: Client) {
      const parsed = signUpInput.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new ValidationError(issue.message, String(issue.path[0] ?? ''));
      }
      const blockedUntil = await signUpAttempts.blockedUntil(client.ip);
      if (blockedUntil) {
        throw new LimitError(`Too many sign-ups from your network; try again after ${formatUtc(blockedUntil)}.`, blockedUntil);
      }
      await signUpAttempts.record(client.ip);
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
      return { userId: user.id, ...(await start(user.id)) };
    },

    async signOut(token: string | undefined) {
      ended([await sessions.destroy(token)]);
    },

    /**
     * A new password, given the current one; every other session of the user ends (the one of
     * `keepToken`, the browser asking, stays). A wrong current password counts as a failed sign-in.
     */
    async changePassword(user: SessionUser, input: { currentPassword: string; newPassword: string }, keepToken: string | undefined) {
      const parsed = newPasswordInput.safeParse(input.newPassword);
      if (!parsed.success) throw new ValidationError(parsed.error.issues[0]!.message, 'newPassword');
      const blockedUntil = await accountFailures.blockedUntil(user.email);
      if (blockedUntil) throw new LimitError(`Too many wrong passwords; try again after ${formatUtc(blockedUntil)}.`, blockedUntil);
      const { passwordHash } = await prisma.user.findUniqueOrThrow({ where: { id: user.id }, select: { passwordHash: true } });
      if (!(await verifyPassword(passwordHash, input.currentPassword))) {
        await accountFailures.record(user.email);
        throw new ValidationError('That is not your current password.', 'currentPassword');
      }
      await prisma.user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(parsed.data) } });
      await prisma.auditLog.create({ data: { actorId: user.id, action: 'user.password_changed', targetType: 'user', targetId: user.id } });
      ended(await sessions.destroyOthers(user.id, keepToken));
    },

    /** Ends every session of the user but the one of `keepToken`; how many ended. */
    async signOutOthers(user: SessionUser, keepToken: string | undefined): Promise<number> {
      const ids = await sessions.destroyOthers(user.id, keepToken);
      ended(ids);
      return ids.length;
    },

    /** Called with the ids of sessions as they end (sign-out, password change), on this process. */
    onSessionsEnded(listener: (sessionIds: string[]) => void): () => void {
      sessionsEnded.add(listener);
      return () => sessionsEnded.delete(listener);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
