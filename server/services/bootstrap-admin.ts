import type { PrismaClient } from '../generated/prisma/client';
import { hashPassword } from '../auth/password';
import { signUpInput, type SignUpInput } from '../auth/signup-input';
import { ValidationError } from '../errors';

/**
 * The first admin of a production install, which seeds no account (`npm run admin:bootstrap`).
 * One-time: once any admin exists this door is shut, so it cannot be used to add another.
 */
export async function bootstrapAdmin(prisma: PrismaClient, input: SignUpInput): Promise<{ id: string; email: string }> {
  const parsed = signUpInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ValidationError(issue.message, String(issue.path[0] ?? ''));
  }
  const { name, email, password } = parsed.data;
  const passwordHash = await hashPassword(password);
  return prisma.$transaction(async (tx) => {
    // Two bootstraps at once: the second waits here and then sees the first one's admin.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('switchyard:admin-bootstrap'))`;
    const admin = await tx.user.findFirst({ where: { isAdmin: true }, select: { email: true } });
    if (admin) throw new ValidationError(`An admin already exists (${admin.email}): the bootstrap is only for an install that has none.`);
    if (await tx.user.findUnique({ where: { email }, select: { id: true } })) {
      throw new ValidationError(`An account with the email ${email} already exists; choose another email.`, 'email');
    }
    const user = await tx.user.create({ data: { name, email, passwordHash, isAdmin: true }, select: { id: true, email: true } });
    await tx.auditLog.create({ data: { actorId: null, action: 'admin.bootstrap', targetType: 'user', targetId: user.id, data: { email } } });
    return user;
  });
}
