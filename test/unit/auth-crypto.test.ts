import { createHmac, randomBytes } from 'node:crypto';
import {
  createAccessTokens,
  createPasswordHasher,
  decryptSecret,
  encryptSecret,
  newRecoveryCode,
  normalizeRecoveryCode,
  totp,
} from '../../server/auth/crypto.js';
import { passwordProblems } from '../../server/auth/strength.js';
import { createLogger } from '../../server/shared/logger.js';
import { createMailer } from '../../server/shared/mailer.js';
import { captureLogs } from '../helpers/logs.js';

const SECRET = 'unit-test-secret-that-is-long-enough-0123';
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('access tokens', () => {
  const tokens = createAccessTokens(SECRET);
  const now = new Date('2026-11-25T12:00:00Z');
  const claims = { sub: 'user-1', role: 'user' as const, sid: '7b6f0c1e-2a7e-4c55-9d7a-2f1d6e0e9a11' };

  it('round-trips its claims until 15 minutes have passed', async () => {
    const jwt = await tokens.sign(claims, now);
    expect(await tokens.verify(jwt, now)).toEqual(claims);
    expect(await tokens.verify(jwt, new Date(now.getTime() + 15 * 60 * 1000 - 1000))).toEqual(claims);
    expect(await tokens.verify(jwt, new Date(now.getTime() + 15 * 60 * 1000))).toBeNull();
  });

  it('refuses a token signed with another key', async () => {
    const other = createAccessTokens('another-secret-that-is-long-enough-99999');
    expect(await tokens.verify(await other.sign(claims, now), now)).toBeNull();
  });

  it('refuses alg:none, a changed header and a changed payload', async () => {
    const jwt = await tokens.sign(claims, now);
    const [h, p, s] = jwt.split('.');
    expect(await tokens.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${p}.`, now)).toBeNull();
    expect(await tokens.verify(`${b64({ alg: 'none', typ: 'JWT' })}.${p}.${s}`, now)).toBeNull();
    expect(await tokens.verify(`${b64({ alg: 'HS512', typ: 'JWT' })}.${p}.${s}`, now)).toBeNull();
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    expect(await tokens.verify(`${h}.${b64({ ...payload, role: 'admin' })}.${s}`, now)).toBeNull();
    expect(await tokens.verify(`${h}.${b64({ ...payload, exp: payload.exp + 3600 })}.${s}`, now)).toBeNull();
  });

  it('refuses malformed input without throwing', async () => {
    for (const bad of ['', 'a', 'a.b', 'a.b.c', '...', `${b64('x')}.${b64('y')}.zz`, 'x'.repeat(5000)]) {
      expect(await tokens.verify(bad, now)).toBeNull();
    }
  });
});

describe('password hashing', () => {
  it('uses Argon2id with the OWASP parameters and flags older hashes for upgrade', async () => {
    const hasher = createPasswordHasher();
    const hash = await hasher.hash('a long enough passphrase');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(hasher.needsRehash(hash)).toBe(false);
    expect(await hasher.verify(hash, 'a long enough passphrase')).toBe(true);
    expect(await hasher.verify(hash, 'a long enough passphrasE')).toBe(false);
    const old = await createPasswordHasher({ memorySize: 4096, iterations: 1, parallelism: 1 }).hash('pw-from-2019');
    expect(hasher.needsRehash(old)).toBe(true);
    expect(await hasher.verify(old, 'pw-from-2019')).toBe(true);
    expect(await hasher.verify('not a hash', 'x')).toBe(false);
  });
});

describe('TOTP', () => {
  // RFC 6238 appendix B, SHA-1 seed; the 8-digit values end in these 6 digits.
  const seed = new TextEncoder().encode('12345678901234567890');

  it('matches the RFC 6238 test vectors', async () => {
    expect(await totp.verify(seed, '287082', new Date(59 * 1000), null)).toBe(1);
    expect(await totp.verify(seed, '081804', new Date(1111111109 * 1000), null)).toBe(37037036);
    expect(await totp.verify(seed, '050471', new Date(1111111111 * 1000), null)).toBe(37037037);
  });

  it('accepts one step of drift and refuses a step already used', async () => {
    const t = new Date(1111111111 * 1000);
    expect(await totp.verify(seed, '050471', new Date(t.getTime() + 30_000), null)).toBe(37037037);
    expect(await totp.verify(seed, '050471', new Date(t.getTime() + 90_000), null)).toBeNull();
    expect(await totp.verify(seed, '050471', t, 37037037)).toBeNull();
    expect(await totp.verify(seed, '050471', t, 37037036)).toBe(37037037);
    expect(await totp.verify(seed, 'abcdef', t, null)).toBeNull();
  });
});

describe('secrets at rest', () => {
  it('encrypts with AES-256-GCM: random IV, and any change to the ciphertext is detected', () => {
    const key = randomBytes(32);
    const secret = new Uint8Array(randomBytes(20));
    const a = encryptSecret(key, secret);
    const b = encryptSecret(key, secret);
    expect(a).not.toBe(b);
    expect(Buffer.from(decryptSecret(key, a))).toEqual(Buffer.from(secret));
    const parts = a.split('.');
    const ct = Buffer.from(parts[3], 'base64url');
    ct[0] ^= 1;
    expect(() => decryptSecret(key, [...parts.slice(0, 3), ct.toString('base64url')].join('.'))).toThrow();
    expect(() => decryptSecret(randomBytes(32), a)).toThrow();
  });

  it('makes recovery codes that normalize case and separators away', () => {
    const code = newRecoveryCode();
    expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    expect(normalizeRecoveryCode(code.toUpperCase().replace('-', ' '))).toBe(code.replace('-', ''));
  });
});

describe('password strength', () => {
  it('accepts a long uncommon passphrase and refuses common or personal ones', async () => {
    expect(await passwordProblems('Violet-otter-kettle-drum', 'p')).toEqual([]);
    expect(await passwordProblems('iloveyou12', 'p')).toHaveLength(1);
    expect((await passwordProblems('short', 'p'))[0].message).toContain('at least 10');
    expect(await passwordProblems('margaretthatcher', 'p', ['margaretthatcher@example.com'])).toHaveLength(1);
  });

  it('checks many passwords at once off the main thread with the same verdicts', async () => {
    const verdicts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => passwordProblems(i % 2 ? `Violet-otter-kettle-drum-${i}` : 'password1234', 'p')),
    );
    expect(verdicts.map((v) => v.length)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 ? 0 : 1)));
  });
});

describe('mailer without SMTP_URL', () => {
  it('in development writes the mail to the log instead', async () => {
    const { lines, logger } = capturedLogger();
    const mailer = createMailer({ env: 'development', smtpUrl: undefined, mailFrom: 'Numina <no-reply@numina.local>' }, logger);
    await mailer.send({ to: 'ada@example.com', subject: 'Hello', text: 'link: https://x/reset-password?token=abc' });
    const entry = JSON.parse(lines.join(''));
    expect(entry.mail).toMatchObject({ to: 'ada@example.com', subject: 'Hello', body: expect.stringContaining('reset-password?token=abc') });
  });
});

/** A logger whose lines land in `lines` (the real pino, redaction included). */
function capturedLogger(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const { lines, stream } = captureLogs();
  return { lines, logger: createLogger('info', stream) };
}

describe('mailer without SMTP_URL outside development', () => {
  it.each(['production', 'test'] as const)('in %s sends nothing and logs only that a mail was dropped', async (env) => {
    const { lines, logger } = capturedLogger();
    const mailer = createMailer({ env, smtpUrl: undefined, mailFrom: 'Numina <no-reply@numina.local>' }, logger);
    await mailer.send({ to: 'ada@example.com', subject: 'Reset your Numina password', text: 'link: https://x/reset-password?token=tok-SECRET-123' });
    const all = lines.join('');
    expect(all).toContain('mail dropped');
    expect(all).not.toContain('tok-SECRET-123');
    expect(all).not.toContain('reset-password');
    expect(all).not.toContain('ada@example.com');
  });
});

describe('log redaction', () => {
  it('hides credentials in a field of any name holding a token, at any depth, and tokens in URL queries', () => {
    const { lines, logger } = capturedLogger();
    logger.info(
      {
        a: { b: { c: { resetToken: 'S1-deep', recoveryCodes: ['S2-code', 'S3-code'] } } },
        req: { url: '/reset-password?token=S4-query&x=1' },
        err: { config: { headers: { Authorization: 'Bearer S5-header' } } },
        body: { newPassword: 'S6-password', email: 'kept@example.com' },
        totpSecret: 'S7-secret',
      },
      'something happened',
    );
    const line = lines.join('');
    for (const s of ['S1-deep', 'S2-code', 'S3-code', 'S4-query', 'S5-header', 'S6-password', 'S7-secret']) expect(line).not.toContain(s);
    const parsed = JSON.parse(line);
    expect(parsed.a.b.c.resetToken).toBe('[redacted]');
    expect(parsed.req.url).toBe('/reset-password?token=[redacted]&x=1');
    expect(parsed.body.email).toBe('kept@example.com');
    expect(parsed.msg).toBe('something happened');
  });
});

describe('access-token lifetime', () => {
  const sign = (payload: Record<string, unknown>) => {
    const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
    return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
  };
  const now = new Date('2026-03-01T12:00:00Z');
  const iat = Math.floor(now.getTime() / 1000);
  const claims = { sub: 'u1', sid: 's1', role: 'user', iss: 'numina', aud: 'numina-api' };

  it('accepts a correctly signed token that lives as long as tokens are issued for', async () => {
    expect(await createAccessTokens(SECRET).verify(sign({ ...claims, iat, exp: iat + 900 }), now)).toEqual({ sub: 'u1', sid: 's1', role: 'user' });
  });

  it('refuses a correctly signed token whose exp - iat exceeds the configured lifetime', async () => {
    expect(await createAccessTokens(SECRET).verify(sign({ ...claims, iat, exp: iat + 86_400 }), now)).toBeNull();
    expect(await createAccessTokens(SECRET, 60).verify(sign({ ...claims, iat, exp: iat + 900 }), now)).toBeNull();
  });

  it('refuses a token without iat, or issued in the future', async () => {
    expect(await createAccessTokens(SECRET).verify(sign({ ...claims, exp: iat + 600 }), now)).toBeNull();
    expect(await createAccessTokens(SECRET).verify(sign({ ...claims, iat: iat + 3600, exp: iat + 3600 + 900 }), now)).toBeNull();
  });
});
