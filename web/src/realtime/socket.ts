import { signal } from '@preact/signals';
import { io, type Socket } from 'socket.io-client';
import { getAccessToken, refreshSession } from '../api/session.ts';
import type { AckError, ClientToServerEvents, ServerToClientEvents } from '../api/types.ts';

/**
 * The one Socket.IO connection of a signed-in page. Handlers are registered once by the state
 * modules and survive reconnects; every (re)connect runs the `onConnected` hooks (resume).
 */

export type ServerEvents = ServerToClientEvents;
type ClientEvents = ClientToServerEvents;

export const connected = signal(false);

let socket: Socket<ServerEvents, ClientEvents> | null = null;
const handlers: { [E in keyof ServerEvents]?: ServerEvents[E][] } = {};
const connectedHooks: (() => void)[] = [];

export function onServerEvent<E extends keyof ServerEvents>(event: E, handler: ServerEvents[E]) {
  const list = (handlers[event] ?? []) as ServerEvents[E][];
  list.push(handler);
  handlers[event] = list as never;
  socket?.on(event, handler as never);
}

export const onConnected = (hook: () => void) => connectedHooks.push(hook);

export function openSocket() {
  if (socket) return;
  const created: Socket<ServerEvents, ClientEvents> = io({
    // A function: each (re)connection presents the token current at that moment.
    auth: (callback) => callback({ token: getAccessToken() ?? '' }),
  });
  for (const [event, list] of Object.entries(handlers)) {
    for (const handler of list as ((...args: unknown[]) => void)[])
      created.on(event as never, handler as never);
  }
  created.on('connect', () => {
    connected.value = true;
    for (const hook of connectedHooks) hook();
  });
  created.on('disconnect', (reason) => {
    connected.value = false;
    // The server hung up (account disabled, or an edge shutting down): Socket.IO won't retry itself.
    if (reason === 'io server disconnect') setTimeout(() => socket === created && created.connect(), 1_000);
  });
  created.on('connect_error', (error: Error & { data?: { code?: string; retryAfterSeconds?: number } }) => {
    connected.value = false;
    const code = error.data?.code;
    if (code === 'token_expired' || code === 'token_invalid' || code === 'unauthorized') {
      // A refused handshake is not retried by Socket.IO: refresh, then connect again. A disabled
      // or deleted account fails the refresh too, which signs the page out.
      void refreshSession().then((ok) => ok && socket === created && created.connect());
    } else if (code === 'unavailable') {
      setTimeout(() => socket === created && created.connect(), (error.data?.retryAfterSeconds ?? 2) * 1_000);
    }
  });
  socket = created;
}

export function closeSocket() {
  socket?.disconnect();
  socket = null;
  connected.value = false;
}

/** Emits with an acknowledgement and turns an ack error into a rejection. */
export function request<E extends keyof ClientEvents>(
  event: E,
  payload: Parameters<ClientEvents[E]>[0],
): Promise<NonNullable<Parameters<Parameters<ClientEvents[E]>[1]>[1]>> {
  return new Promise((resolve, reject) => {
    if (!socket) {
      reject(new SocketError({ code: 'not_connected', message: 'Not connected to the server.' }));
      return;
    }
    const ack = (error: AckError | null, result?: unknown) => {
      if (error) reject(new SocketError(error));
      else resolve(result as never);
    };
    (socket.emit as (event: string, payload: unknown, ack: unknown) => void)(event, payload, ack);
  });
}

export class SocketError extends Error {
  readonly code: string;
  readonly retryAfterSeconds: number | undefined;
  constructor(error: AckError) {
    super(error.message);
    this.code = error.code;
    this.retryAfterSeconds = error.retryAfterSeconds;
  }
}
