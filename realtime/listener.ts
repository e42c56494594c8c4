import pg from 'pg';
import type { Logger } from 'pino';

export interface ListenerOptions {
  connectionString: string;
  channels: string[];
  logger: Logger;
  onNotification(channel: string, payload: string): void;
  /**
   * Called after every (re)connection once LISTEN is in place. Notifications sent while the
   * connection was down are lost, so the caller re-reads whatever it may have missed.
   */
  onListening(): void;
  retryMs?: number;
}

export interface Listener {
  /** Resolves once the first LISTEN is active (the instance must not serve sockets it cannot feed). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * One dedicated PostgreSQL connection per instance, outside the knex pool: LISTEN holds its
 * connection for the process lifetime, and a pooled connection could be handed to someone else.
 * Reconnects with a fixed back-off when the connection drops.
 */
export function createListener(opts: ListenerOptions): Listener {
  const retryMs = opts.retryMs ?? 1000;
  let client: pg.Client | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (err: Error) => void;
  let firstAttempt = true;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });

  const scheduleRetry = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, retryMs);
    retryTimer.unref();
  };

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: opts.connectionString, application_name: 'numina-realtime' });
    client = c;
    let failed = false;
    const fail = (err?: Error) => {
      if (failed) return;
      failed = true;
      if (!closed) opts.logger.warn({ err }, 'realtime listener connection lost; reconnecting');
      c.removeAllListeners('notification');
      c.end().catch(() => {});
      scheduleRetry();
    };
    c.on('error', fail);
    c.on('end', () => fail());
    c.on('notification', (n) => opts.onNotification(n.channel, n.payload ?? ''));
    try {
      await c.connect();
      for (const ch of opts.channels) await c.query(`LISTEN ${pg.escapeIdentifier(ch)}`);
    } catch (err) {
      if (firstAttempt) {
        firstAttempt = false;
        closed = true;
        c.end().catch(() => {});
        rejectReady(err as Error);
        return;
      }
      fail(err as Error);
      return;
    }
    if (closed) {
      await c.end().catch(() => {});
      return;
    }
    if (firstAttempt) {
      firstAttempt = false;
      resolveReady();
    } else {
      opts.logger.info('realtime listener reconnected');
    }
    opts.onListening();
  };

  void connect();

  return {
    ready,
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => {});
    },
  };
}
