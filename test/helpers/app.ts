import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../server/shared/config.js';
import { manualClock } from '../../server/shared/clock.js';
import { createLogger } from '../../server/shared/logger.js';
import { startInstance, type Running } from '../../server/runtime.js';

export interface TestApp extends Running {
  config: Config;
  clock: ReturnType<typeof manualClock>;
  /** fetch against this app; JSON body when `json` is given; bearer token when `token` is. */
  api(path: string, init?: RequestInit & { json?: unknown; token?: string }): Promise<Response>;
}

/** This run's database (made by global-setup). */
export function testDatabaseUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run tests through `npm test`');
  return url;
}

/**
 * Starts the real app in-process on port 0 against this run's database. Only the clock (and,
 * through env, the outside world such as SMTP) is replaced.
 */
export async function startTestApp(env: Record<string, string> = {}, opts: { clock?: Date } = {}): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: testDatabaseUrl(),
    DATABASE_POOL_MAX: '10',
    JWT_SECRET: randomBytes(32).toString('hex'),
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    RATE_LIMIT_IP_PER_MINUTE: '100000',
    RATE_LIMIT_USER_PER_MINUTE: '100000',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...env,
  });
  const clock = manualClock(opts.clock);
  const running = await startInstance(config, createLogger(config.logLevel), { clock, migrate: false });
  const api: TestApp['api'] = (path, init = {}) => {
    const { json, token, headers, ...rest } = init;
    const h = new Headers(headers);
    if (json !== undefined) h.set('content-type', 'application/json');
    if (token) h.set('authorization', `Bearer ${token}`);
    return fetch(running.url + path, { ...rest, headers: h, body: json !== undefined ? JSON.stringify(json) : rest.body });
  };
  return { ...running, config, clock, api };
}
