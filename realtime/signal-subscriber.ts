import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { EVENTS_CHANNEL, SESSIONS_REVOKED_CHANNEL } from '../server/shared/realtime-signals.js';
import { createListener } from './listener.js';

export interface SignalSubscriberOptions {
  /** PostgreSQL LISTEN on this database, unless `redis` is given. */
  databaseUrl: string;
  /** Set (REDIS_URL): the signals travel over Redis pub/sub, as the writers send them. */
  redis?: Redis;
  logger: Logger;
  retryMs: number;
  onSignal(channel: typeof EVENTS_CHANNEL | typeof SESSIONS_REVOKED_CHANNEL, payload: string): void;
  /** After every (re)subscription: signals sent meanwhile are lost, so the caller re-reads. */
  onSubscribed(): void;
}

export interface SignalSubscriber {
  close(): Promise<void>;
}

const CHANNELS = [EVENTS_CHANNEL, SESSIONS_REVOKED_CHANNEL] as const;
const isChannel = (c: string): c is (typeof CHANNELS)[number] => (CHANNELS as readonly string[]).includes(c);

/** Subscribes to both realtime channels on PostgreSQL (a dedicated LISTEN connection) or on Redis. */
export async function subscribeSignals(opts: SignalSubscriberOptions): Promise<SignalSubscriber> {
  if (opts.redis) {
    // A subscribed Redis connection can do nothing else: a connection of its own, resubscribed by ioredis.
    const sub = opts.redis.duplicate();
    sub.on('message', (channel: string, payload: string) => {
      if (isChannel(channel)) opts.onSignal(channel, payload);
    });
    sub.on('ready', () => opts.onSubscribed());
    sub.on('error', (err) => opts.logger.warn({ err }, 'realtime Redis subscription error'));
    try {
      await sub.subscribe(...CHANNELS);
    } catch (err) {
      sub.disconnect();
      throw err;
    }
    return {
      close() {
        sub.disconnect();
        return Promise.resolve();
      },
    };
  }
  const listener = createListener({
    connectionString: opts.databaseUrl,
    channels: [...CHANNELS],
    logger: opts.logger,
    retryMs: opts.retryMs,
    onNotification: (channel, payload) => {
      if (isChannel(channel)) opts.onSignal(channel, payload);
    },
    onListening: () => opts.onSubscribed(),
  });
  await listener.ready;
  return listener;
}
