import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * The one typed schema for the environment. Every variable the server reads is here, with its
 * default; `loadConfig` refuses to return a config that does not match it.
 */
const intString = (def: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .default(String(def))
    .transform((v) => Number(v));

const optionalUrl = z.string().url('must be a URL').optional();
const secret = z.string().min(32, 'must be at least 32 characters').optional();

/** Exported so that deployment files (docker-compose.yml) can be checked against it. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: intString(3000).refine((p) => p >= 0 && p < 65536, 'must be a port number'),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATABASE_POOL_MAX: intString(10),
  DATABASE_ACQUIRE_TIMEOUT_MS: intString(10000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PUBLIC_URL: optionalUrl,
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  MAIL_FROM: z.string().default('Numina <no-reply@numina.local>'),
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// URL')
    .optional(),
  CORS_ORIGINS: z.string().default(''),
  TRUST_PROXY: z.string().default('false'),
  RATE_LIMIT_IP_PER_MINUTE: intString(300),
  RATE_LIMIT_USER_PER_MINUTE: intString(1200),
  /** Socket.IO handshakes per client address and minute, across instances (docs/api.md: 60). */
  RATE_LIMIT_SOCKET_HANDSHAKES_PER_MINUTE: intString(60),
  SHUTDOWN_TIMEOUT_MS: intString(10000),
  DOWNLOADS_MAX: intString(4).refine((n) => n >= 1, 'must be at least 1'),
  DOWNLOADS_PER_USER: intString(2).refine((n) => n >= 1, 'must be at least 1'),
  DOWNLOAD_STALL_TIMEOUT_MS: intString(30000).refine((n) => n >= 100, 'must be at least 100'),
  DATA_DIR: z.string().default('.data'),
  EMBEDDED_PG_PORT: intString(54329),
  /** HMAC key for access-token JWTs (HS256). Required in production. */
  JWT_SECRET: secret,
  /** 32-byte key (base64 or hex) encrypting TOTP secrets at rest. Required in production. */
  ENCRYPTION_KEY: z.string().optional(),
  /** Scheduled backups: the directory archives are written to (with BACKUP_CRON; both or neither). */
  BACKUP_DIR: z.string().trim().min(1).optional(),
  /** When scheduled backups run: a 5-field cron expression in UTC, e.g. `0 3 * * *` (daily 03:00). */
  BACKUP_CRON: z
    .string()
    .trim()
    .regex(/^[\w*/,?#-]+(\s+[\w*/,?#-]+){4}$/, 'must be a 5-field cron expression (minute hour day-of-month month day-of-week), e.g. "0 3 * * *"')
    .optional(),
  /** How many scheduled archives are kept in BACKUP_DIR; older ones are deleted after each run. */
  BACKUP_KEEP: intString(7).refine((n) => n >= 1, 'must be at least 1'),
  /** Recurring sweep: how many users' catch-up transactions run at once per instance (background work, so few). */
  RECURRING_SWEEP_CONCURRENCY: intString(1).refine((n) => n >= 1 && n <= 32, 'must be between 1 and 32'),
  /** Bearer token Prometheus sends to GET /metrics. Production without it: /metrics answers 404. */
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').regex(/^[\x21-\x7e]+$/, 'must be visible ASCII (no spaces)').optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  databaseUrl?: string;
  databasePoolMax: number;
  /** How many users' recurring catch-ups one instance's sweep runs at once. */
  recurringSweepConcurrency: number;
  /** How long a request waits for a pooled connection before it is answered 503. */
  databaseAcquireTimeoutMs: number;
  logLevel: Env['LOG_LEVEL'];
  publicUrl: string;
  smtpUrl?: string;
  mailFrom: string;
  tls?: { certFile: string; keyFile: string };
  redisUrl?: string;
  corsOrigins: string[];
  /**
   * Express's `trust proxy`: false, a hop count, or the addresses/CIDRs (and Express's names
   * loopback, linklocal, uniquelocal) of the proxies in front. `true` (trust every hop) is refused
   * in production: any client could then choose its own address.
   */
  trustProxy: boolean | number | string[];
  rateLimit: { ipPerMinute: number; userPerMinute: number; socketHandshakesPerMinute: number };
  shutdownTimeoutMs: number;
  /** Streamed downloads: per instance (and size of their own pool), per user, and the stall window. */
  downloads: { max: number; perUser: number; stallMs: number };
  dataDir: string;
  embeddedPgPort: number;
  jwtSecret: string;
  encryptionKey: Buffer;
  /** When set, GET /metrics needs `Authorization: Bearer <metricsToken>`; unset in production, /metrics is 404. */
  metricsToken?: string;
  /** Scheduled backups through the job queue (BACKUP_DIR + BACKUP_CRON); absent when not configured. */
  backup?: { dir: string; cron: string; keep: number };
}

export class ConfigError extends Error {}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or CIDR, or one of Express's names. */
function isProxyAddress(item: string): boolean {
  if (PROXY_NAMES.has(item)) return true;
  const [addr, bits, ...rest] = item.split('/');
  const family = isIP(addr);
  if (!family || rest.length) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** TRUST_PROXY → the value Express's `trust proxy` takes. */
function parseTrustProxy(raw: string, env: string): boolean | number | string[] {
  const v = raw.trim();
  if (v === '' || v === 'false') return false;
  if (v === 'true') {
    if (env === 'production') {
      throw new ConfigError(
        'TRUST_PROXY: `true` trusts every X-Forwarded-For hop, so a client can forge its address; in production give the number of proxies in front (e.g. 1) or their addresses/CIDRs (e.g. 10.0.0.0/8,loopback)',
      );
    }
    return true;
  }
  if (/^\d+$/.test(v)) return Number(v);
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = items.filter((i) => !isProxyAddress(i));
  if (!items.length || bad.length) {
    throw new ConfigError(`TRUST_PROXY: must be false, a hop count, or a comma-separated list of proxy addresses/CIDRs (loopback, linklocal, uniquelocal allowed); not ${bad.join(', ') || 'empty'}`);
  }
  return items;
}

/** Shannon entropy of the characters of `s`, in bits for the whole string. */
/** Bits per character of the alphabet `s` is written in: hex, base64(url), or any printable ASCII. */
function alphabetBits(s: string): number {
  if (/^[0-9a-f]+$/i.test(s)) return 4;
  if (/^[A-Za-z0-9+/_=-]+$/.test(s)) return 6;
  return Math.log2(94);
}

/** Empirical (Shannon) entropy of the characters of `s`, per character. */
function shannonPerChar(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    perChar -= p * Math.log2(p);
  }
  return perChar;
}

/**
 * Too little entropy: shorter than 128 bits for its alphabet, or characters far from evenly used
 * (below 60 % of what the alphabet allows at that length). The empirical entropy of a short random
 * string is biased low (32 random hex digits average ~3.5 of 4 bits per character and now and then
 * dip under 2.9), so it is compared with a margin rather than used as the bit count itself.
 */
function lowEntropy(s: string): boolean {
  const bits = alphabetBits(s);
  if (s.length * bits < 128) return true;
  return shannonPerChar(s) < 0.6 * Math.min(bits, Math.log2(s.length));
}

/** True when `s` is one shorter string repeated (`abcabcabc…`). */
function isRepetition(s: string): boolean {
  return /^(.+?)\1+$/s.test(s);
}

const PLACEHOLDER = /(change.?me|secret|password|example|default|placeholder|dummy|qwerty)/i;

/**
 * Why a production secret is weak, or null: a long secret can still be guessable (one repeated
 * character, a repeated pattern, a placeholder word, or too few distinct characters).
 */
export function secretWeakness(secret: string): string | null {
  if (isRepetition(secret)) return 'is one short pattern repeated';
  if (new Set(secret).size < 8) return 'uses fewer than 8 distinct characters';
  if (PLACEHOLDER.test(secret)) return 'contains a placeholder or common word';
  if (lowEntropy(secret)) return 'has too little entropy (use at least 32 random bytes, e.g. `openssl rand -base64 48`)';
  return null;
}

/** Why a 32-byte key is weak, or null (all one byte, a repeated pattern, few distinct bytes). */
function keyWeakness(key: Buffer): string | null {
  if (isRepetition(key.toString('latin1'))) return 'is one short byte pattern repeated';
  if (new Set(key).size < 12) return 'has too few distinct bytes to be random (use `openssl rand -hex 32`)';
  return null;
}

function parseKey(raw: string, name: string): Buffer {
  const buf = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (buf.length !== 32) throw new ConfigError(`${name}: must be 32 bytes, as 64 hex digits or base64`);
  return buf;
}

/**
 * Development secrets are random, made once and kept under the data directory, so tokens survive
 * restarts but no secret ever lives in the code.
 */
function devSecrets(dataDir: string): { JWT_SECRET: string; ENCRYPTION_KEY: string } {
  const file = path.join(dataDir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { JWT_SECRET: string; ENCRYPTION_KEY: string };
  mkdirSync(dataDir, { recursive: true });
  const secrets = {
    JWT_SECRET: randomBytes(48).toString('base64url'),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** Parses and checks the environment; throws ConfigError naming the variable that is wrong. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`SMTP_URL=` in an .env file, `${SMTP_URL:-}` in Compose) means unset.
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  if ((e.TLS_CERT_FILE && !e.TLS_KEY_FILE) || (!e.TLS_CERT_FILE && e.TLS_KEY_FILE)) {
    throw new ConfigError('TLS_CERT_FILE and TLS_KEY_FILE: set both or neither');
  }
  if (!e.BACKUP_DIR !== !e.BACKUP_CRON) {
    throw new ConfigError('BACKUP_DIR and BACKUP_CRON: set both (where to write archives, and when, e.g. BACKUP_CRON="0 3 * * *") or neither');
  }
  let jwtSecret = e.JWT_SECRET;
  let encryptionKey = e.ENCRYPTION_KEY;
  if (!jwtSecret || !encryptionKey) {
    if (e.NODE_ENV === 'production') {
      const missing = [!jwtSecret && 'JWT_SECRET', !encryptionKey && 'ENCRYPTION_KEY'].filter(Boolean);
      throw new ConfigError(`${missing.join(', ')}: required in production`);
    }
    const dev = devSecrets(e.DATA_DIR);
    jwtSecret ??= dev.JWT_SECRET;
    encryptionKey ??= dev.ENCRYPTION_KEY;
  }
  const key = parseKey(encryptionKey, 'ENCRYPTION_KEY');
  if (e.NODE_ENV === 'production') {
    const weakJwt = secretWeakness(jwtSecret);
    if (weakJwt) throw new ConfigError(`JWT_SECRET: ${weakJwt}`);
    const weakKey = keyWeakness(key);
    if (weakKey) throw new ConfigError(`ENCRYPTION_KEY: ${weakKey}`);
  }
  const scheme = e.TLS_CERT_FILE ? 'https' : 'http';
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    recurringSweepConcurrency: e.RECURRING_SWEEP_CONCURRENCY,
    databaseAcquireTimeoutMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    publicUrl: (e.PUBLIC_URL ?? `${scheme}://localhost:${e.PORT}`).replace(/\/$/, ''),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    redisUrl: e.REDIS_URL,
    corsOrigins: e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    trustProxy: parseTrustProxy(e.TRUST_PROXY, e.NODE_ENV),
    rateLimit: {
      ipPerMinute: e.RATE_LIMIT_IP_PER_MINUTE,
      userPerMinute: e.RATE_LIMIT_USER_PER_MINUTE,
      socketHandshakesPerMinute: e.RATE_LIMIT_SOCKET_HANDSHAKES_PER_MINUTE,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    downloads: { max: e.DOWNLOADS_MAX, perUser: e.DOWNLOADS_PER_USER, stallMs: e.DOWNLOAD_STALL_TIMEOUT_MS },
    dataDir: e.DATA_DIR,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    jwtSecret,
    encryptionKey: key,
    metricsToken: e.METRICS_TOKEN,
    backup: e.BACKUP_DIR && e.BACKUP_CRON ? { dir: path.resolve(e.BACKUP_DIR), cron: e.BACKUP_CRON.replace(/\s+/g, ' '), keep: e.BACKUP_KEEP } : undefined,
  };
}
