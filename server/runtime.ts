import type { Redis as RedisClient } from 'ioredis';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createApp, type App } from './app.js';
import type { Clock } from './shared/clock.js';
import type { Config } from './shared/config.js';
import { createDb, migrateLatest, watchDatabase, type Db } from './shared/db.js';
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedDb } from './shared/embedded-postgres.js';
import { closeServer, createHttpServer, listen, type HttpServer } from './shared/server.js';
import { createRealtime } from '../realtime/index.js';

export interface Running {
  app: App;
  server: HttpServer;
  port: number;
  url: string;
  db: Db;
  /** Stops in order: realtime sockets, stop accepting, drain requests, pool, embedded database. */
  stop(): Promise<void>;
}

/**
 * Starts a whole instance: database (embedded when no DATABASE_URL), migrations, app, HTTP(S)
 * server and realtime. Used by main.ts and by tests that need a real process-like server.
 */
export async function startInstance(config: Config, logger: Logger, opts: { clock?: Clock; migrate?: boolean } = {}): Promise<Running> {
  let embedded: EmbeddedDb | undefined;
  let db: Db | undefined;
  let redis: RedisClient | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
      }
    }
    cleanups.length = 0;
  };
  try {
    let url = config.databaseUrl;
    if (!url) {
      if (config.env === 'production') {
        throw new EmbeddedPostgresError('DATABASE_URL: required in production (the embedded PostgreSQL is for development and is not installed there)');
      }
      logger.info({ dataDir: config.dataDir, port: config.embeddedPgPort }, 'DATABASE_URL unset: starting embedded PostgreSQL');
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, log: (m) => logger.debug({ pg: m }) });
      cleanups.push(() => embedded!.stop());
      url = embedded.url;
    }
    db = createDb(url, config.databasePoolMax, config.databaseAcquireTimeoutMs, logger);
    watchDatabase(db, logger);
    cleanups.push(() => db!.destroy());
    if (opts.migrate !== false) {
      const applied = await migrateLatest(db);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }
    if (config.redisUrl) {
      redis = new Redis(config.redisUrl, { lazyConnect: false, maxRetriesPerRequest: 2 });
      cleanups.push(() => {
        redis!.disconnect();
        return Promise.resolve();
      });
    }
    // Features see the URL actually in use (the embedded one when DATABASE_URL is unset), e.g. for LISTEN.
    const app = await createApp({ config: { ...config, databaseUrl: url }, db, logger, clock: opts.clock, redis });
    cleanups.push(() => app.ctx.downloads.close());
    // The job queue starts before the instance listens, so "ready" means fully started (a stop
    // signal after /readyz answers finds everything to stop). Cleanups run in reverse: HTTP and
    // sockets close first, then the queue (waiting for runs in flight), then the pool and database.
    cleanups.push(() => app.ctx.jobs.stop());
    await app.ctx.jobs.start();
    const server = createHttpServer(app.app, config);
    // Realtime sits below the app: it gets the narrow pieces it needs, not the app itself.
    const realtime = app.realtime ? await createRealtime(server, app.realtime) : undefined;
    let listening = false;
    cleanups.push(async () => {
      // WebSockets first: closeAllConnections does not cut upgraded sockets, so server.close()
      // would wait on them forever (clients reconnect elsewhere and resume). Then drain HTTP.
      await realtime?.close();
      if (listening) await closeServer(server, config.shutdownTimeoutMs);
    });
    const port = await listen(server, config.port, config.host);
    listening = true;
    const scheme = config.tls ? 'https' : 'http';
    return { app, server, port, url: `${scheme}://127.0.0.1:${port}`, db, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
