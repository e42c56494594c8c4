import { randomBytes } from 'node:crypto';
import type { DestinationStream } from 'pino';
import { loadConfig, type Config } from '../../server/shared/config.js';
import { manualClock } from '../../server/shared/clock.js';
import { createLogger } from '../../server/shared/logger.js';
import { startInstance, type Running } from '../../server/runtime.js';
import { openApiDocument } from '../../server/system/system.routes.js';
import { createContractChecker } from './contract.js';
import { startTestSmtp, type TestSmtp } from './smtp.js';
import { registerAndLogin, type TestUser } from './users.js';

export interface TestApp extends Running {
  config: Config;
  clock: ReturnType<typeof manualClock>;
  /**
   * fetch against this app; JSON body when `json` is given; bearer token when `token` is. Every
   * response is checked against /openapi.json (documented status, body matching its schema): a
   * drift throws, failing the test. `unchecked: true` skips that for deliberately odd requests.
   */
  api(path: string, init?: RequestInit & { json?: unknown; token?: string; unchecked?: boolean }): Promise<Response>;
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
export async function startTestApp(
  env: Record<string, string> = {},
  opts: { clock?: Date; /** Where log lines go (tests that read the log); silent otherwise unless TEST_LOG_LEVEL. */ logStream?: DestinationStream } = {},
): Promise<TestApp> {
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
    RATE_LIMIT_SOCKET_HANDSHAKES_PER_MINUTE: '100000',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...env,
  });
  const clock = manualClock(opts.clock);
  const running = await startInstance(config, createLogger(config.logLevel, opts.logStream), { clock, migrate: false });
  const contract = createContractChecker(openApiDocument(running.app.registry) as unknown as Parameters<typeof createContractChecker>[0]);
  const api: TestApp['api'] = async (path, init = {}) => {
    const { json, token, headers, unchecked, ...rest } = init;
    const h = new Headers(headers);
    if (json !== undefined) h.set('content-type', 'application/json');
    if (token) h.set('authorization', `Bearer ${token}`);
    const res = await fetch(running.url + path, { ...rest, headers: h, body: json !== undefined ? JSON.stringify(json) : rest.body });
    if (!unchecked) {
      // Only JSON bodies are read here; a download (attachment) stays the test's to read, or not.
      const type = res.headers.get('content-type');
      const download = /attachment/.test(res.headers.get('content-disposition') ?? '');
      const body = type && /json/.test(type) && !download ? await res.clone().text() : '';
      const problem = contract.check(rest.method ?? 'GET', path, res.status, type, body);
      if (problem) throw new Error(`response drifts from /openapi.json: ${problem}`);
    }
    return res;
  };
  return { ...running, config, clock, api };
}

/**
 * A stand-in that forwards to the value `get()` returns once it exists: lets a test file declare
 * `const t = useTestApp()` at the top while the app itself starts in beforeAll. Reads, writes
 * (`u.accessToken = …`), `in`, spreading and key listing all reach the real value.
 */
export function late<T extends object>(get: () => T | undefined, what: string): T {
  const real = (): T => {
    const value = get();
    if (!value) throw new Error(`${what} is used before beforeAll started it`);
    return value;
  };
  return new Proxy({} as T, {
    // Returned as is, not bound: a value may be a callable with properties (a knex instance).
    get: (_target, key) => Reflect.get(real(), key, real()) as unknown,
    set: (_target, key, value) => Reflect.set(real(), key, value),
    has: (_target, key) => Reflect.has(get() ?? {}, key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_target, key) => {
      const d = Reflect.getOwnPropertyDescriptor(real(), key);
      // The stand-in's own target is empty and extensible: every property it reports is configurable.
      return d ? { ...d, configurable: true } : undefined;
    },
  });
}

type TestAppEnv = Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
interface TestAppOptions {
  clock?: Date;
  /** Where log lines go (tests that read the log). */
  logStream?: DestinationStream;
  /** What must still reach the running app at the end (checks, cleanup); the app stops even if it throws. */
  beforeStop?: (app: TestApp) => PromiseLike<unknown> | void;
  /** The start's own bound, when it does more than start (default: jest's test timeout). */
  startTimeoutMs?: number;
}

const envOf = async (env: TestAppEnv) => (typeof env === 'function' ? await env() : env);

/**
 * The app for one test file (or one describe block): started in beforeAll (env and clock as for
 * startTestApp; `env` may be a function read then), stopped in afterAll. Replaces the start/stop
 * preamble every file used to copy.
 */
export function useTestApp(env: TestAppEnv = {}, opts: TestAppOptions = {}): TestApp {
  let app: TestApp | undefined;
  beforeAll(async () => {
    app = await startTestApp(await envOf(env), opts);
  }, opts.startTimeoutMs);
  afterAll(() => stopTestApp(app, opts));
  return late(() => app, 'the test app');
}

async function stopTestApp(app: TestApp | undefined, opts: TestAppOptions): Promise<void> {
  if (!app) return;
  try {
    await opts.beforeStop?.(app);
  } finally {
    await app.stop();
  }
}

/**
 * useTestApp with a real SMTP server in the test process: the server starts first and the app's
 * SMTP_URL points at it; the app stops first, so no mail is cut off mid-delivery.
 */
export function useTestAppWithSmtp(env: TestAppEnv = {}, opts: TestAppOptions = {}): { t: TestApp; smtp: TestSmtp } {
  let smtp: TestSmtp | undefined;
  let app: TestApp | undefined;
  beforeAll(async () => {
    smtp = await startTestSmtp();
    app = await startTestApp({ SMTP_URL: smtp.url, ...(await envOf(env)) }, opts);
  }, opts.startTimeoutMs);
  afterAll(async () => {
    await stopTestApp(app, opts);
    await smtp?.stop();
  });
  return { t: late(() => app, 'the test app'), smtp: late(() => smtp, 'the test SMTP server') };
}

/** `count` users registered and logged in through the API in beforeAll (after the app started). */
export function useUsers(t: TestApp, count: number): TestUser[] {
  const users: (TestUser | undefined)[] = Array.from({ length: count }, () => undefined);
  beforeAll(async () => {
    for (let i = 0; i < count; i++) users[i] = await registerAndLogin(t);
  });
  return users.map((_, i) => late(() => users[i], `test user ${i + 1}`));
}
