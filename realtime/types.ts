import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../server/shared/outbox.js';

/** What the server keeps per socket (Socket.IO's typed `socket.data`). */
export interface SocketState {
  userId: string;
  sessionId: string;
  token: string;
  /** ms since epoch; null when the token has no `exp` (then it is re-verified periodically). */
  expiresAt: number | null;
  /** Highest seq written to this socket, or the point it starts after. Only seq > cursor is sent. */
  cursor: number;
  /** False until `resume` or the grace period: the socket receives nothing before. */
  live: boolean;
  graceTimer?: NodeJS.Timeout;
  /** Real time (ms) since which events were held back because the socket's buffer was full. */
  behindSince: number | null;
  /** Real times (ms) of this socket's recent `resume`/`auth` events, and of all its events. */
  controlHits: number[];
  packetHits: number[];
  resumeInFlight: boolean;
  /** Releases the place the handshake held under the socket limits (the socket then counts itself). */
  releasePlace?: () => void;
}

/** No events between instances: every instance reads the database itself. */
type InterServerEvents = Record<string, never>;

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketState>;
export type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketState>;

type Ack<T> = (body: T) => void;

/** The acknowledgement callback of a client event, if the client asked for one (it may send anything). */
export function ackOf<T>(args: unknown[]): Ack<T> | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as Ack<T>) : undefined;
}
