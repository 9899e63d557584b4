import type { Logger } from '../log';
import type { Services } from '../services';
import type { IoServer } from './types';
import { canJoin, roomRequest } from './rooms';
import { userRoom } from './events';

/**
 * Rooms are authorised on join; when someone is removed from a team (or leaves), their open tabs
 * must stop hearing it too. Each of the user's sockets, on whichever web process, is re-checked
 * against the same rule as a join and leaves the rooms it may no longer be in.
 */
export function watchMembershipEnds(io: IoServer, services: Services, onLeftProject: (projectId: string) => void, log: Logger) {
  async function recheck(userId: string): Promise<void> {
    for (const socket of await io.in(userRoom(userId)).fetchSockets()) {
      for (const name of socket.rooms) {
        const [kind, id] = name.split(':');
        const room = roomRequest.safeParse({ kind, id });
        if (!room.success || (await canJoin(services.prisma, socket.data.user, room.data))) continue;
        socket.leave(name);
        if (room.data.kind === 'project') onLeftProject(room.data.id);
      }
    }
  }
  return services.teams.onMembershipEnded((userId) => {
    recheck(userId).catch((err: unknown) => log.warn({ err, userId }, 'room recheck failed'));
  });
}
