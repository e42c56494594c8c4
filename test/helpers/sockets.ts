import type { Knex } from 'knex';
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client';
import { createOutbox, type EventPayloads } from '../../server/shared/outbox.js';
import type { TestApp } from './app.js';

export type { ClientSocket };

export interface WireEvent {
  seq: number;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export const EVENT_TYPES = [
  'balance.updated',
  'transaction.created',
  'transaction.updated',
  'transaction.deleted',
  'budget.alert',
  'goal.progress',
] as const;

/** A socket.io-client that records every event it receives, in arrival order. */
export interface RecordingSocket {
  socket: ClientSocket;
  events: WireEvent[];
  /** Resolves when at least `n` events arrived (jest's timeout bounds the wait). */
  waitForEvents(n: number): Promise<WireEvent[]>;
  /** Resolves with the disconnect reason and the `session.ended` reason, if any. */
  disconnected: Promise<{ reason: string; ended?: string }>;
  /** Emits `resume` and resolves with the server's acknowledgement. */
  resume(sinceSeq: number): Promise<{ ok: boolean; lastSeq?: number; gap?: boolean; code?: string }>;
  close(): void;
}

const open: ClientSocket[] = [];

/** Closes every socket a test opened (call in afterEach/afterAll). */
export function closeAllSockets(): void {
  for (const s of open.splice(0)) s.close();
}

function newSocket(url: string, auth: Record<string, unknown> | undefined): ClientSocket {
  const socket = ioClient(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true, autoConnect: false });
  open.push(socket);
  return socket;
}

/** Connects with `auth` and resolves with the `connect_error` message (rejects if it connects). */
export function connectError(urlOrApp: string | TestApp, auth?: Record<string, unknown>): Promise<{ message: string; data: unknown }> {
  const socket = newSocket(typeof urlOrApp === 'string' ? urlOrApp : urlOrApp.url, auth);
  return new Promise((resolve, reject) => {
    socket.on('connect', () => {
      socket.close();
      reject(new Error('connected, but a refusal was expected'));
    });
    socket.on('connect_error', (err: Error & { data?: unknown }) => {
      socket.close();
      resolve({ message: err.message, data: err.data });
    });
    socket.connect();
  });
}

/** Connects with a token and resolves once connected (rejects on connect_error). */
export function connect(urlOrApp: string | TestApp, token: string, extraAuth: Record<string, unknown> = {}): Promise<RecordingSocket> {
  const url = typeof urlOrApp === 'string' ? urlOrApp : urlOrApp.url;
  const socket = newSocket(url, { token, ...extraAuth });
  const events: WireEvent[] = [];
  const waiters: { n: number; resolve: (e: WireEvent[]) => void }[] = [];
  let ended: string | undefined;
  socket.onAny((name: string, payload: WireEvent) => {
    if (name === 'session.ended') {
      ended = (payload as unknown as { reason: string }).reason;
      return;
    }
    if (!(EVENT_TYPES as readonly string[]).includes(name)) return;
    events.push(payload);
    for (const w of [...waiters]) {
      if (events.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(events.slice());
      }
    }
  });
  const disconnected = new Promise<{ reason: string; ended?: string }>((resolve) => {
    socket.on('disconnect', (reason) => resolve({ reason, ended }));
  });
  const rec: RecordingSocket = {
    socket,
    events,
    disconnected,
    waitForEvents: (n) => (events.length >= n ? Promise.resolve(events.slice()) : new Promise((resolve) => waiters.push({ n, resolve }))),
    resume: (sinceSeq) => socket.emitWithAck('resume', { sinceSeq }),
    close: () => socket.close(),
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(rec));
    socket.once('connect_error', (err) => reject(err));
    socket.connect();
  });
}

/** Connects and resumes from `sinceSeq`, so live events flow at once. */
export async function connectLive(urlOrApp: string | TestApp, token: string, sinceSeq = 0): Promise<RecordingSocket> {
  const rec = await connect(urlOrApp, token);
  const ack = await rec.resume(sinceSeq);
  if (!ack.ok) throw new Error(`resume refused: ${JSON.stringify(ack)}`);
  return rec;
}

/**
 * Event data for tests: the contract's fields, or any object (tests tag events with markers such as
 * `owner` to see whose they are; the outbox stores whatever it is given).
 */
type TestData<T extends keyof EventPayloads> = EventPayloads[T] | Record<string, unknown>;

/** Publishes one event in `trx` through the app's outbox, as a feature would. */
export function publishIn<T extends keyof EventPayloads>(t: TestApp, trx: Knex.Transaction, userId: string, type: T, data: TestData<T>) {
  return t.app.ctx.outbox.publish(trx, userId, type, data as EventPayloads[T]);
}

/** Publishes one committed event for `userId` through the outbox, as a feature would. */
export async function publish<T extends keyof EventPayloads>(t: TestApp, userId: string, type: T, data: TestData<T>) {
  return t.db.transaction((trx) => publishIn(t, trx, userId, type, data));
}

/** Publishes one committed event whose realtime signal is lost (never sent): only the catch-up can deliver it. */
export async function publishWithoutSignal<T extends keyof EventPayloads>(t: TestApp, userId: string, type: T, data: TestData<T>) {
  const silent = createOutbox({ clock: t.clock, signals: { eventsCommitted: () => {} } });
  return t.db.transaction((trx) => silent.publish(trx, userId, type, data as EventPayloads[T]));
}
