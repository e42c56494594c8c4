import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createApp, type App } from '../../server/app.js';
import { loadConfig, type Config } from '../../server/shared/config.js';
import { createDb, type Db } from '../../server/shared/db.js';
import type { RouteSet } from '../../server/context.js';
import { createLogger } from '../../server/shared/logger.js';
import { closeServer, createHttpServer, listen, type HttpServer } from '../../server/shared/server.js';
import { late, testDatabaseUrl } from './app.js';
import { captureLogs } from './logs.js';

export interface BareApp {
  app: App;
  url: string;
  server: HttpServer;
  db: Db;
  config: Config;
  /** Every log line written so far, parsed. */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/**
 * The real createApp with a chosen feature list (tests of the wiring itself: error mapping,
 * shutdown, access declarations), a log capture, and optionally another database URL.
 */
export async function startBareApp(opts: { routes?: RouteSet[]; env?: Record<string, string>; databaseUrl?: string } = {}): Promise<BareApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    JWT_SECRET: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    SHUTDOWN_TIMEOUT_MS: '3000',
    ...opts.env,
  });
  const { entries: logs, stream: sink } = captureLogs();
  const db = createDb(opts.databaseUrl ?? testDatabaseUrl(), config.databasePoolMax, config.databaseAcquireTimeoutMs);
  const redis = config.redisUrl ? new Redis(config.redisUrl) : undefined;
  const app = await createApp({ config, db, logger: createLogger('info', sink), bare: true, routes: opts.routes, redis });
  const server = createHttpServer(app.app, config);
  const port = await listen(server, 0, '127.0.0.1');
  return {
    app,
    url: `${config.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    server,
    db,
    config,
    logs,
    stop: async () => {
      await closeServer(server, config.shutdownTimeoutMs);
      await db.destroy();
      redis?.disconnect();
    },
  };
}

/** startBareApp for one test file (or describe block): started in beforeAll, stopped in afterAll. */
export function useBareApp(opts: Parameters<typeof startBareApp>[0] = {}): BareApp {
  let app: BareApp | undefined;
  beforeAll(async () => {
    app = await startBareApp(opts);
  });
  afterAll(async () => {
    await app?.stop();
  });
  return late(() => app, 'the bare app');
}
