import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { SessionUser } from '../auth/session';

/** A person's notifications (activities/notify.ts writes them): only ever their own. */

export const markReadInput = z.union([z.object({ ids: z.array(z.uuid()).min(1).max(200) }), z.object({ all: z.literal(true) })]);
export type MarkReadInput = z.infer<typeof markReadInput>;

const notificationSelect = {
  id: true,
  event: true,
  title: true,
  readAt: true,
  createdAt: true,
  jobId: true,
  job: { select: { projectId: true } },
} satisfies Prisma.NotificationSelect;

export function createNotificationService(prisma: PrismaClient) {
  return {
    /** The latest notifications and how many are unread. */
    async list(user: SessionUser, limit: number) {
      const [rows, unread] = await Promise.all([
        prisma.notification.findMany({ where: { userId: user.id }, select: notificationSelect, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit }),
        prisma.notification.count({ where: { userId: user.id, readAt: null } }),
      ]);
      return { items: rows.map(({ job, ...row }) => ({ ...row, projectId: job.projectId })), unread };
    },

    async markRead(user: SessionUser, input: MarkReadInput) {
      const { count } = await prisma.notification.updateMany({
        where: { userId: user.id, readAt: null, ...('ids' in input ? { id: { in: input.ids } } : {}) },
        data: { readAt: new Date() },
      });
      return { marked: count };
    },
  };
}
