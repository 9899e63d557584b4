import type { Prisma, PrismaClient } from '../generated/prisma/client';
import { NotFoundError } from '../errors';

export const projectSelect = {
  id: true,
  name: true,
  description: true,
  team: { select: { id: true, name: true } },
} satisfies Prisma.ProjectSelect;

/** Tenancy lives in the `where`: a project of another team is simply not found. */
export const visibleTo = (userId: string) => ({ team: { memberships: { some: { userId } } } }) satisfies Prisma.ProjectWhereInput;

export function createProjectService(prisma: PrismaClient) {
  return {
    list(userId: string) {
      return prisma.project.findMany({
        where: visibleTo(userId),
        select: projectSelect,
        orderBy: [{ team: { name: 'asc' } }, { name: 'asc' }],
      });
    },

    async require(userId: string, projectId: string) {
      const project = await prisma.project.findFirst({
        where: { id: projectId, ...visibleTo(userId) },
        select: { ...projectSelect, team: { select: { id: true, name: true, tier: true } } },
      });
      if (!project) throw new NotFoundError('project');
      return project;
    },
  };
}

export type ProjectService = ReturnType<typeof createProjectService>;
