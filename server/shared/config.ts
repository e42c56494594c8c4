import { randomBytes } from 'node:crypto';
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
  TRUST_PROXY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  RATE_LIMIT_IP_PER_MINUTE: intString(300),
  RATE_LIMIT_USER_PER_MINUTE: intString(1200),
  SHUTDOWN_TIMEOUT_MS: intString(10000),
  DATA_DIR: z.string().default('.data'),
  EMBEDDED_PG_PORT: intString(54329),
  /** HMAC key for access-token JWTs (HS256). Required in production. */
  JWT_SECRET: secret,
  /** 32-byte key (base64 or hex) encrypting TOTP secrets at rest. Required in production. */
  ENCRYPTION_KEY: z.string().optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  databaseUrl?: string;
  databasePoolMax: number;
  /** How long a request waits for a pooled connection before it is answered 503. */
  databaseAcquireTimeoutMs: number;
  logLevel: Env['LOG_LEVEL'];
  publicUrl: string;
  smtpUrl?: string;
  mailFrom: string;
  tls?: { certFile: string; keyFile: string };
  redisUrl?: string;
  corsOrigins: string[];
  trustProxy: boolean;
  rateLimit: { ipPerMinute: number; userPerMinute: number };
  shutdownTimeoutMs: number;
  dataDir: string;
  embeddedPgPort: number;
  jwtSecret: string;
  encryptionKey: Buffer;
}

export class ConfigError extends Error {}

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
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
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
  const scheme = e.TLS_CERT_FILE ? 'https' : 'http';
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseAcquireTimeoutMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    publicUrl: (e.PUBLIC_URL ?? `${scheme}://localhost:${e.PORT}`).replace(/\/$/, ''),
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : undefined,
    redisUrl: e.REDIS_URL,
    corsOrigins: e.CORS_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean),
    trustProxy: e.TRUST_PROXY,
    rateLimit: { ipPerMinute: e.RATE_LIMIT_IP_PER_MINUTE, userPerMinute: e.RATE_LIMIT_USER_PER_MINUTE },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    dataDir: e.DATA_DIR,
    embeddedPgPort: e.EMBEDDED_PG_PORT,
    jwtSecret,
    encryptionKey: parseKey(encryptionKey, 'ENCRYPTION_KEY'),
  };
}
