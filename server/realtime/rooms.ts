import { z } from 'zod';
import type { PrismaClient } from '../generated/prisma/client';
import type { SessionUser } from '../auth/session';
import type { RoomRequest } from './events';

/** Pool names are admin-chosen words (`local`, `gpu-a100`), not ids. */
export const poolName = z.string().regex(/^[A-Za-z0-9][\w.-]{0,62}$/);

export const roomRequest = z.discriminatedUnion('kind', [
  z.object({ kind: z.enum(['project', 'job', 'team']), id: z.uuid() }),
  z.object({ kind: z.literal('queue'), id: poolName }),
  z.object({ kind: z.literal('admin'), id: z.literal('residency') }),
]);

/**
 * Whether `user` may receive a room's events: the same membership rule as every query, checked
 * in the database on each join, so a client cannot enter a room by naming it.
 */
export async function canJoin(prisma: PrismaClient, user: SessionUser, room: RoomRequest): Promise<boolean> {
  const member = { memberships: { some: { userId: user.id } } };
  switch (room.kind) {
    case 'team':
      return (await prisma.team.count({ where: { id: room.id, ...member } })) > 0;
    case 'project':
      return (await prisma.project.count({ where: { id: room.id, team: member } })) > 0;
    case 'job':
      return (await prisma.job.count({ where: { id: room.id, team: member } })) > 0;
    // Counts and backends only, the same for everyone signed in; the pool must exist.
    case 'queue':
      return (await prisma.backend.count({ where: { pool: room.id } })) > 0;
    // Read again, not from the session: an admin demoted since signing in is refused.
    case 'admin':
      return (await prisma.user.count({ where: { id: user.id, isAdmin: true } })) > 0;
  }
}
