import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/shared/config.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'numina-config-'));
const SECRETS = { JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: 'ab'.repeat(32) };

describe('config', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({ DATA_DIR: tmp() });
    expect(c.port).toBe(3000);
    expect(c.env).toBe('development');
    expect(c.rateLimit).toEqual({ ipPerMinute: 300, userPerMinute: 1200 });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.publicUrl).toBe('http://localhost:3000');
  });

  it('refuses a bad value and names the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATA_DIR: tmp() })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x', DATA_DIR: tmp() })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud', DATA_DIR: tmp() })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ SMTP_URL: 'http://x', DATA_DIR: tmp() })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ TLS_CERT_FILE: 'a.pem', DATA_DIR: tmp() })).toThrow(/TLS_KEY_FILE/);
  });

  it('refuses to start in production without secrets', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: tmp() })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: tmp() })).toThrow(/JWT_SECRET, ENCRYPTION_KEY: required in production/);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'short', ENCRYPTION_KEY: SECRETS.ENCRYPTION_KEY })).toThrow(/JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', ...SECRETS, ENCRYPTION_KEY: 'abc' })).toThrow(/ENCRYPTION_KEY/);
    expect(loadConfig({ NODE_ENV: 'production', ...SECRETS }).jwtSecret).toBe(SECRETS.JWT_SECRET);
  });

  it('generates development secrets once, keeps them under the data directory, and reuses them', () => {
    const dir = tmp();
    const a = loadConfig({ DATA_DIR: dir });
    const b = loadConfig({ DATA_DIR: dir });
    expect(a.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(b.jwtSecret).toBe(a.jwtSecret);
    expect(b.encryptionKey.equals(a.encryptionKey)).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, 'secrets.json'), 'utf8')).JWT_SECRET).toBe(a.jwtSecret);
    const other = loadConfig({ DATA_DIR: tmp() });
    expect(other.jwtSecret).not.toBe(a.jwtSecret);
  });
});
