/**
 * The Socket.IO contract, typed once for the edge server, the worker-side emitter and clients.
 * Every client → server event takes an ack `(error, result)`.
 */

export interface AckError {
  code: string;
  message: string;
}

export type Ack<Result> = (error: AckError | null, result?: Result) => void;

export interface ProbeReply {
  nonce: string;
  /** Process id of the worker that ran the job: proves the answer crossed processes. */
  workerPid: number;
  enqueuedAt: string;
  processedAt: string;
}

export interface ClientToServerEvents {
  /** Round trip through a queue and a worker, answered with `system:pong`. */
  'system:ping': (payload: { nonce: string }, ack: Ack<{ jobId: string }>) => void;
}

export interface ServerToClientEvents {
  'system:pong': (payload: ProbeReply) => void;
}

/** What the edge knows about an authenticated socket. */
export interface SocketData {
  userId: string;
}

/** The room each socket joins for its user once accounts exist; workers emit here. */
export const userRoom = (userId: string) => `user:${userId}`;
