import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, secretWeakness } from '../../server/shared/config.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'numina-config-'));
const SECRETS = { JWT_SECRET: randomBytes(48).toString('base64url'), ENCRYPTION_KEY: randomBytes(32).toString('hex') };

describe('config', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({ DATA_DIR: tmp() });
    expect(c.port).toBe(3000);
    expect(c.env).toBe('development');
    expect(c.rateLimit).toEqual({ ipPerMinute: 300, userPerMinute: 1200, socketHandshakesPerMinute: 60 });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(c.recurringSweepConcurrency).toBe(1);
    expect(loadConfig({ DATA_DIR: tmp(), RECURRING_SWEEP_CONCURRENCY: '4' }).recurringSweepConcurrency).toBe(4);
  });

  it('refuses a bad value and names the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATA_DIR: tmp() })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x', DATA_DIR: tmp() })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud', DATA_DIR: tmp() })).toThrow(/LOG_LEVEL/);
    expect(() => loadConfig({ SMTP_URL: 'http://x', DATA_DIR: tmp() })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ TLS_CERT_FILE: 'a.pem', DATA_DIR: tmp() })).toThrow(/TLS_KEY_FILE/);
    expect(() => loadConfig({ RECURRING_SWEEP_CONCURRENCY: '0', DATA_DIR: tmp() })).toThrow(/RECURRING_SWEEP_CONCURRENCY/);
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

  it.each([
    ['one character repeated', 'x'.repeat(64)],
    ['a short pattern repeated', 'abc123'.repeat(8)],
    ['few distinct characters', 'aabbaabbabababbbaaabbbabababbaaabbbabbaba'],
    ['a placeholder', 'please-change-me-before-going-live-0123456789'],
    ['low entropy', '0101010101010101010101010101010123232323'],
    ['mostly one character', 'a'.repeat(40) + 'bcdefghijk'],
    ['too short for its alphabet (96 bits of hex)', '0123456789abcdef'.split('').reverse().join('') + 'a1b2c3d4'],
  ])('refuses a production JWT_SECRET that is %s, long as it may be', (_what, weak) => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...SECRETS, JWT_SECRET: weak })).toThrow(/JWT_SECRET/);
  });

  it('refuses a production ENCRYPTION_KEY that is one byte repeated or patterned', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...SECRETS, ENCRYPTION_KEY: 'ab'.repeat(32) })).toThrow(/ENCRYPTION_KEY/);
    expect(() => loadConfig({ NODE_ENV: 'production', ...SECRETS, ENCRYPTION_KEY: '0123456789abcdef'.repeat(4) })).toThrow(/ENCRYPTION_KEY/);
  });

  it('accepts random secrets of the documented sizes (hex and base64)', () => {
    for (let i = 0; i < 5000; i++) {
      expect(secretWeakness(randomBytes(16).toString('hex'))).toBeNull();
      expect(secretWeakness(randomBytes(48).toString('base64url'))).toBeNull();
    }
  });

  it('takes TRUST_PROXY as false, a hop count, or a list of proxy addresses, CIDRs and names', () => {
    expect(loadConfig({ DATA_DIR: tmp() }).trustProxy).toBe(false);
    expect(loadConfig({ DATA_DIR: tmp(), TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ DATA_DIR: tmp(), TRUST_PROXY: '10.0.0.0/8, 192.168.1.7,loopback,fd00::/8' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'loopback',
      'fd00::/8',
    ]);
    expect(() => loadConfig({ DATA_DIR: tmp(), TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ DATA_DIR: tmp(), TRUST_PROXY: 'my-proxy.example' })).toThrow(/TRUST_PROXY/);
  });

  it('refuses TRUST_PROXY=true in production (every hop trusted lets a client forge its address)', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...SECRETS, TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(loadConfig({ NODE_ENV: 'production', ...SECRETS, TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ DATA_DIR: tmp(), TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  });
});
