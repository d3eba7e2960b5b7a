import { userRoom } from '../relay/events.ts';
import type { RealtimeServer } from './types.ts';

export interface PresenceStatus {
  userId: string;
  online: boolean;
  connections: number;
}

/**
 * Who is connected, across every edge node: the Redis adapter asks all nodes for the sockets in
 * the user's room. Nothing is counted by hand, so a crashed node can't leave a user "online".
 */
export class Presence {
  private readonly io: RealtimeServer;

  constructor(io: RealtimeServer) {
    this.io = io;
  }

  async status(userId: string): Promise<PresenceStatus> {
    const sockets = await this.io.in(userRoom(userId)).fetchSockets();
    return { userId, online: sockets.length > 0, connections: sockets.length };
  }

  /**
   * Closes every socket of the user, on every edge node (the adapter relays it through Redis):
   * for an account that was disabled or deleted, whose sockets would otherwise keep receiving.
   */
  disconnect(userId: string): void {
    this.io.in(userRoom(userId)).disconnectSockets(true);
  }
}
