/**
 * Socket.IO v5 over Engine.IO v4, spoken over a bare WebSocket: what k6 (whose WebSocket API knows
 * nothing of Socket.IO) and the Node runner use to hold one realtime connection per virtual user.
 * No k6 or Node imports here: the caller owns the socket and hands every text frame to `receive`.
 *
 * The wire, text frames only (the server sends no binary events):
 *   server → `0{"sid","pingInterval","pingTimeout",…}`    Engine.IO open
 *   client → `40{"token":"…"}`                            Socket.IO CONNECT to "/" with the auth payload
 *   server → `40{"sid":"…"}` | `44{"message":"…"}`         connected | refused (e.g. unauthorized)
 *   server → `2`, client → `3`                            Engine.IO ping / pong (the server pings)
 *   server → `42["transaction.created",{…}]`              an event
 *   client → `42<id>["auth",{"token":"…"}]`               an event with an ack id; server → `43<id>[answer]`
 *   `41` / `1`                                            Socket.IO disconnect / Engine.IO close
 * Tested against the real server with a plain `ws` client: test/realtime/socketio-framing.test.ts.
 */

/** Path and query of the WebSocket transport on `base` (http → ws, https → wss). */
export function socketIoUrl(base: string): string {
  return `${base.replace(/^http/, 'ws').replace(/\/$/, '')}/socket.io/?EIO=4&transport=websocket`;
}

export type SocketIoInput =
  | { kind: 'open'; sid: string; pingInterval: number; pingTimeout: number }
  | { kind: 'connected'; sid: string }
  | { kind: 'refused'; message: string }
  | { kind: 'ping' }
  | { kind: 'event'; name: string; data: unknown[] }
  | { kind: 'ack'; id: number; data: unknown[] }
  | { kind: 'disconnected' }
  | { kind: 'close' }
  | { kind: 'other'; frame: string };

/** What a frame from the server means, and the frame to answer with (a pong, the CONNECT after open). */
export interface Received {
  input: SocketIoInput;
  reply?: string;
}

function json<T>(text: string, fallback: T): T {
  try {
    return text ? (JSON.parse(text) as T) : fallback;
  } catch {
    return fallback;
  }
}

/**
 * One connection's protocol state. `auth` is sent with the CONNECT packet as the handshake's
 * `auth` (the server reads `auth.token`, and `auth.sinceSeq` to resume).
 */
export class SocketIoClient {
  private nextAck = 0;
  connected = false;

  constructor(private readonly auth: Record<string, unknown>) {}

  /** Decodes one text frame from the server. */
  receive(frame: string): Received {
    const eio = frame[0];
    if (eio === '0') {
      const o = json<{ sid?: string; pingInterval?: number; pingTimeout?: number }>(frame.slice(1), {});
      // The Engine.IO session is open: join the main namespace, with the auth payload.
      return { input: { kind: 'open', sid: String(o.sid), pingInterval: Number(o.pingInterval), pingTimeout: Number(o.pingTimeout) }, reply: `40${JSON.stringify(this.auth)}` };
    }
    if (eio === '2') return { input: { kind: 'ping' }, reply: '3' };
    if (eio === '1') {
      this.connected = false;
      return { input: { kind: 'close' } };
    }
    if (eio !== '4') return { input: { kind: 'other', frame } };
    const sio = frame[1];
    const rest = frame.slice(2);
    if (sio === '0') {
      this.connected = true;
      return { input: { kind: 'connected', sid: String(json<{ sid?: string }>(rest, {}).sid) } };
    }
    if (sio === '4') return { input: { kind: 'refused', message: String(json<{ message?: string }>(rest, {}).message) } };
    if (sio === '1') {
      this.connected = false;
      return { input: { kind: 'disconnected' } };
    }
    if (sio === '2' || sio === '3') {
      // An optional namespace ("/ns,") is never used here; an optional ack id precedes the array.
      const m = /^(\d*)(\[.*)$/s.exec(rest);
      if (!m) return { input: { kind: 'other', frame } };
      const args = json<unknown[]>(m[2], []);
      if (sio === '3') return { input: { kind: 'ack', id: Number(m[1]), data: args } };
      return { input: { kind: 'event', name: String(args[0]), data: args.slice(1) } };
    }
    return { input: { kind: 'other', frame } };
  }

  /** The frame that emits `name` with `data`; with `withAck`, also the id its `ack` input will carry. */
  emit(name: string, data: unknown, withAck = false): { frame: string; ackId?: number } {
    if (!withAck) return { frame: `42${JSON.stringify([name, data])}` };
    const id = this.nextAck++;
    return { frame: `42${id}${JSON.stringify([name, data])}`, ackId: id };
  }

  /** The frames that leave politely: Socket.IO disconnect, then Engine.IO close. */
  disconnectFrames(): string[] {
    this.connected = false;
    return ['41', '1'];
  }
}
