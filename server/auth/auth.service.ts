import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/index.js';
import type { AuditContext, WriteContext } from '../shared/write-context.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config.js';
import type { Db } from '../shared/db.js';
import { AppError, ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../shared/errors.js';
import type { UserHooks } from '../context.js';
import type { AuthUser } from '../shared/http.js';
import type { Mailer } from '../shared/mailer.js';
import { toProfile, User, type Profile } from '../users/index.js';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  createAccessTokens,
  createPasswordHasher,
  decryptSecret,
  encryptSecret,
  newOpaqueToken,
  newRecoveryCode,
  normalizeRecoveryCode,
  sha256Hex,
  totp,
  type PasswordHasher,
} from './crypto.js';
import { decodeCursor, encodeCursor, isIsoInstant, isUuid } from '../shared/cursor.js';
import { sessionStore } from './sessions.js';
import { passwordProblems } from './strength.js';

/** PostgreSQL channel every instance LISTENs on to drop the live connections of revoked logins. */
export const SESSIONS_REVOKED_CHANNEL = 'numina_sessions_revoked';

/** pg_notify payloads are limited to 8000 bytes: ids go out in chunks well below that. */
const NOTIFY_CHUNK = 100;

/**
 * Announces revoked logins inside the revoking transaction: PostgreSQL delivers the notification
 * only if that transaction commits. Payload: `{"userId": "...", "sessionIds": ["..."]}`.
 */
export async function notifySessionsRevoked(trx: Knex.Transaction, userId: string, sessionIds: string[]): Promise<void> {
  for (let i = 0; i < sessionIds.length; i += NOTIFY_CHUNK) {
    const payload = JSON.stringify({ userId, sessionIds: sessionIds.slice(i, i + NOTIFY_CHUNK) });
    await trx.raw('SELECT pg_notify(?, ?)', [SESSIONS_REVOKED_CHANNEL, payload]);
  }
}

/**
 * Deletes logins of a user (all, `only` some, or all `except` one) with their refresh tokens, and
 * announces them. Returns the revoked session ids.
 */
export async function revokeSessions(trx: Knex.Transaction, userId: string, opts: { only?: string[]; except?: string } = {}): Promise<string[]> {
  const q = trx('auth_sessions').where({ user_id: userId });
  if (opts.only) q.whereIn('id', opts.only.length ? opts.only : ['00000000-0000-0000-0000-000000000000']);
  if (opts.except) q.whereNot('id', opts.except);
  const rows: { id: string }[] = await q.delete().returning('id');
  const ids = rows.map((r) => r.id);
  if (ids.length) await notifySessionsRevoked(trx, userId, ids);
  return ids;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  user: Profile;
}

export interface SessionInfo {
  id: string;
  userAgent: string | null;
  ip: string | null;
  createdAt: string;
  lastUsedAt: string;
  current: boolean;
}

export interface RegisterInput {
  email: string;
  password: string;
  name?: string;
  currency: string;
  timeZone: string;
}

export interface LoginInput {
  email: string;
  password: string;
  totp?: string;
  recoveryCode?: string;
}

export interface AuthDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'jwtSecret' | 'encryptionKey' | 'publicUrl'>;
  logger: Logger;
  audit: AuditService;
  hooks: UserHooks;
  mailer: Mailer;
  hasher?: PasswordHasher;
}

export const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;
const RECOVERY_CODE_COUNT = 10;
const TOTP_ISSUER = 'Numina';

const invalidCredentials = () => new UnauthorizedError('The email or password is not correct.', 'invalid_credentials');
const accountDisabled = () => new UnauthorizedError('This account is disabled.', 'account_disabled');
const wrongPassword = (path: string) =>
  new AppError(400, 'invalid_password', 'The password is not correct.', [{ path, message: 'is not correct' }]);
const wrongCode = (path: string) => new AppError(400, 'invalid_code', 'The code is not valid.', [{ path, message: 'is not a valid, unused code' }]);

/** Thrown inside a transaction to roll it back, then answered outside once a failure is recorded. */
class LoginRejected extends Error {
  constructor(readonly userId: string, readonly reason: string, readonly answer: AppError) {
    super(reason);
  }
}

export type AuthService = ReturnType<typeof createAuthService>;

/**
 * Registration, logins (lucia sessions + JWT access tokens + rotating refresh tokens), 2FA and
 * password reset. Each change runs in one transaction with its audit entry and, when logins are
 * revoked, the `numina_sessions_revoked` notification.
 */
export function createAuthService(deps: AuthDeps) {
  const { db, clock, config, logger, audit, hooks, mailer } = deps;
  const hasher = deps.hasher ?? createPasswordHasher();
  const tokens = createAccessTokens(config.jwtSecret);
  // Unknown emails are verified against this, so they cost what a wrong password costs.
  const dummyHash = hasher.hash(newOpaqueToken());

  const afterRevoke = (ids: string[]) => {
    if (!ids.length) return;
    for (const fn of hooks.sessionsRevoked) {
      try {
        fn(ids);
      } catch (err) {
        logger.error({ err }, 'sessionsRevoked hook failed');
      }
    }
  };

  const findByEmail = (q: Knex | Knex.Transaction, email: string) => User.query(q).whereRaw('lower(email) = ?', [email.toLowerCase()]).first();

  async function issueTokens(trx: Knex.Transaction, user: User, sessionId: string, expiresAt: Date): Promise<TokenPair> {
    const refreshToken = newOpaqueToken();
    const now = clock.now();
    await trx('refresh_tokens').insert({
      token_hash: sha256Hex(refreshToken),
      session_id: sessionId,
      user_id: user.id,
      created_at: now,
      expires_at: expiresAt,
    });
    const accessToken = await tokens.sign({ sub: user.id, role: user.role, sid: sessionId }, now);
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SECONDS, user: toProfile(user) };
  }

  async function recordLoginFailure(userId: string | null, reason: string, rc: AuditContext, via?: string): Promise<void> {
    await db.transaction(async (trx) => {
      // Never the password; the email only when it names a real user (it then lives in that user's chain).
      const after = via ? { reason, via } : { reason };
      await audit.record(trx, { action: 'auth.login_failed', actorId: userId, userId, entityType: 'user', entityId: userId, after, ...rc });
    });
  }

  /** Checks a TOTP code (consuming its time step) or a recovery code (consuming it). */
  async function consumeSecondFactor(trx: Knex.Transaction, user: User, code: { totp?: string; recoveryCode?: string }): Promise<'totp' | 'recovery' | null> {
    if (code.totp) {
      if (!user.totp_secret_enc) return null;
      const secret = decryptSecret(config.encryptionKey, user.totp_secret_enc);
      const last = user.totp_last_step == null ? null : Number(user.totp_last_step);
      const step = await totp.verify(secret, code.totp, clock.now(), last);
      if (step === null) return null;
      // Conditional update: of two concurrent uses of one code, only one can move the step forward.
      const n = await trx('users')
        .where({ id: user.id })
        .andWhere((w) => w.whereNull('totp_last_step').orWhere('totp_last_step', '<', step))
        .update({ totp_last_step: step });
      return n === 1 ? 'totp' : null;
    }
    if (code.recoveryCode) {
      const n = await trx('recovery_codes')
        .where({ user_id: user.id, code_hash: sha256Hex(normalizeRecoveryCode(code.recoveryCode)) })
        .whereNull('used_at')
        .update({ used_at: clock.now() });
      return n === 1 ? 'recovery' : null;
    }
    return null;
  }

  async function newRecoveryCodes(trx: Knex.Transaction, userId: string): Promise<string[]> {
    await trx('recovery_codes').where({ user_id: userId }).delete();
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const now = clock.now();
    await trx('recovery_codes').insert(codes.map((c) => ({ user_id: userId, code_hash: sha256Hex(normalizeRecoveryCode(c)), created_at: now })));
    return codes;
  }

  async function checkStrength(password: string, path: string, inputs: (string | null | undefined)[]): Promise<void> {
    const problems = await passwordProblems(password, path, inputs.filter((s): s is string => !!s));
    if (problems.length) throw new ValidationError('The password is too weak.', problems);
  }

  /**
   * The one sign-in path: password (unknown emails cost the same), disabled, optional role gate,
   * second factor consumed in the transaction `open` runs in. Every refusal is audited before it
   * is answered; `open` writes the success.
   */
  async function signIn<T>(
    input: LoginInput,
    rc: AuditContext,
    opts: { via?: string; role?: 'user' | 'admin' },
    open: (trx: Knex.Transaction, user: User, mfa: string | null, rehashed: boolean) => Promise<T>,
  ): Promise<T> {
    const fail = (userId: string | null, reason: string) => recordLoginFailure(userId, reason, rc, opts.via);
    const user = await findByEmail(db, input.email);
    const hash = user?.password_hash ?? (await dummyHash);
    const ok = (await hasher.verify(hash, input.password)) && !!user?.password_hash;
    if (!user || !ok) {
      await fail(user?.id ?? null, user ? 'wrong_password' : 'unknown_email');
      throw invalidCredentials();
    }
    if (user.disabled) {
      await fail(user.id, 'disabled');
      throw accountDisabled();
    }
    if (opts.role && user.role !== opts.role) {
      await fail(user.id, `not_${opts.role}`);
      throw invalidCredentials();
    }
    if (user.totp_enabled_at && !input.totp && !input.recoveryCode) {
      await fail(user.id, 'mfa_required');
      throw new UnauthorizedError('This account uses two-factor authentication: send `totp` or `recoveryCode`.', 'mfa_required');
    }
    const upgraded = hasher.needsRehash(hash) ? await hasher.hash(input.password) : null;
    try {
      return await db.transaction(async (trx) => {
        let mfa: string | null = null;
        if (user.totp_enabled_at) {
          mfa = await consumeSecondFactor(trx, user, input);
          if (!mfa) throw new LoginRejected(user.id, 'mfa_invalid', new UnauthorizedError('The two-factor code is not valid.', 'mfa_invalid'));
        }
        // A hash made with older Argon2 parameters is replaced now that we hold the password.
        if (upgraded) await trx('users').where({ id: user.id, password_hash: hash }).update({ password_hash: upgraded });
        return await open(trx, user, mfa, !!upgraded);
      });
    } catch (err) {
      if (err instanceof LoginRejected) {
        await fail(err.userId, err.reason);
        throw err.answer;
      }
      throw err;
    }
  }

  async function lockUser(trx: Knex.Transaction, userId: string): Promise<User> {
    const user = await User.query(trx).findById(userId).forUpdate();
    if (!user) throw new UnauthorizedError();
    return user;
  }

  return {
    /** Live logins (unexpired sessions) of all users: the admin dashboard's figure. */
    async countActiveLogins(): Promise<number> {
      const row = (await db('auth_sessions').where('expires_at', '>', clock.now()).count({ n: '*' }).first()) as { n: string | number } | undefined;
      return Number(row?.n ?? 0);
    },

    /** Resolves an access token to its caller. The session is looked up on every call (no cache), so revocation is immediate. */
    async verifyAccessToken(token: string): Promise<AuthUser> {
      const claims = await tokens.verify(token, clock.now());
      if (!claims) throw new UnauthorizedError();
      const valid = await sessionStore(db).validate(claims.sid);
      if (!valid || valid.session.userId !== claims.sub || valid.user.disabled) throw new UnauthorizedError();
      // The role comes from the database, not the token: a demotion applies to tokens already issued.
      return { id: valid.user.id, role: valid.user.role, sessionId: valid.session.id };
    },

    /** Creates a user (lowercased email, strong Argon2id-hashed password) and runs the userCreated hooks, in one transaction. */
    async register(input: RegisterInput, rc: AuditContext): Promise<Profile> {
      await checkStrength(input.password, 'body.password', [input.email, input.name]);
      if (await findByEmail(db, input.email)) throw new ConflictError('An account with this email already exists.', 'email_taken');
      const passwordHash = await hasher.hash(input.password);
      try {
        return await db.transaction(async (trx) => {
          const now = clock.now();
          const user = await User.query(trx)
            .insert({
              email: input.email.toLowerCase(),
              name: input.name ?? null,
              currency: input.currency,
              time_zone: input.timeZone,
              password_hash: passwordHash,
              created_at: now,
              updated_at: now,
            } as Partial<User>)
            .returning('*');
          for (const hook of hooks.userCreated) {
            await hook(trx, { id: user.id, email: user.email, currency: user.currency, timeZone: user.time_zone });
          }
          await audit.record(trx, {
            action: 'auth.register',
            actorId: user.id,
            entityType: 'user',
            entityId: user.id,
            after: { email: user.email, name: user.name, currency: user.currency, timeZone: user.time_zone },
            ...rc,
          });
          return toProfile(user);
        });
      } catch (err) {
        // Two registrations racing for one email: the unique index on lower(email) decides.
        if ((err as { code?: string }).code === '23505' || (err as { nativeError?: { code?: string } }).nativeError?.code === '23505')
          throw new ConflictError('An account with this email already exists.', 'email_taken');
        throw err;
      }
    },

    /** Verifies credentials (and the second factor when on), opens a login and returns its tokens. */
    async login(input: LoginInput, rc: AuditContext): Promise<TokenPair> {
      return signIn(input, rc, {}, async (trx, user, mfa, rehashed) => {
        const now = clock.now();
        // Logins that ran out are dropped here rather than by a sweeper: they are only ever this user's.
        await trx('auth_sessions').where({ user_id: user.id }).where('expires_at', '<=', trx.fn.now()).delete();
        const session = await sessionStore(trx).create(user.id, randomUUID(), { ip: rc.ip, userAgent: rc.userAgent, createdAt: now, lastUsedAt: now });
        const pair = await issueTokens(trx, user, session.id, session.expiresAt);
        await audit.record(trx, {
          action: 'auth.login',
          actorId: user.id,
          entityType: 'session',
          entityId: session.id,
          after: { mfa, passwordRehashed: rehashed },
          ...rc,
        });
        return pair;
      });
    },

    /**
     * The same checks as `login` (password, disabled, second factor consumed, failures audited as
     * `auth.login_failed` with `via`), for a sign-in that keeps its own session (the admin panel):
     * no API login or token is opened. `role` set: other users are refused like a wrong password,
     * before a second-factor code is spent. Success is audited as `<via>.login`.
     */
    async verifyCredentials(input: LoginInput, rc: AuditContext, opts: { via: string; role?: 'user' | 'admin' }): Promise<Profile> {
      return signIn(input, rc, opts, async (trx, user, mfa, rehashed) => {
        await audit.record(trx, { action: `${opts.via}.login`, actorId: user.id, entityType: 'user', entityId: user.id, after: { mfa, passwordRehashed: rehashed }, ...rc });
        return toProfile(user);
      });
    },

    /**
     * Rotates a refresh token. A spent token presented again means it was copied: the whole login
     * (including the token that replaced it) is revoked and the reuse is audited.
     */
    async refresh(refreshToken: string, rc: AuditContext): Promise<TokenPair> {
      const outcome = await db.transaction(async (trx) => {
        const row = await trx('refresh_tokens').where({ token_hash: sha256Hex(refreshToken) }).forUpdate().first();
        if (!row) return { kind: 'unknown' as const };
        if (row.spent_at) {
          const ids = await revokeSessions(trx, row.user_id, { only: [row.session_id] });
          await audit.record(trx, {
            action: 'auth.refresh_reuse_detected',
            actorId: null,
            userId: row.user_id,
            entityType: 'session',
            entityId: row.session_id,
            after: { revokedSessionIds: ids },
            ...rc,
          });
          return { kind: 'reuse' as const, ids };
        }
        const valid = await sessionStore(trx).validate(row.session_id);
        if (!valid) return { kind: 'unknown' as const };
        if (valid.user.disabled) return { kind: 'disabled' as const };
        const now = clock.now();
        await trx('refresh_tokens').where({ token_hash: row.token_hash }).update({ spent_at: now });
        await trx('auth_sessions').where({ id: row.session_id }).update({ last_used_at: now });
        const user = await User.query(trx).findById(row.user_id);
        const pair = await issueTokens(trx, user!, row.session_id, valid.session.expiresAt);
        await audit.record(trx, { action: 'auth.refresh', actorId: row.user_id, entityType: 'session', entityId: row.session_id, ...rc });
        return { kind: 'ok' as const, pair };
      });
      if (outcome.kind === 'ok') return outcome.pair;
      if (outcome.kind === 'reuse') {
        afterRevoke(outcome.ids);
        throw new UnauthorizedError('This refresh token was already used; the login has been revoked.', 'refresh_token_reused');
      }
      if (outcome.kind === 'disabled') throw accountDisabled();
      throw new UnauthorizedError('The refresh token is not valid.', 'invalid_refresh_token');
    },

    /** Ends the caller's login (and the login of `refreshToken`, when it is the caller's). */
    async logout(user: AuthUser, refreshToken: string | undefined, rc: AuditContext): Promise<void> {
      const ids = await db.transaction(async (trx) => {
        const only = [user.sessionId];
        if (refreshToken) {
          const row = await trx('refresh_tokens').where({ token_hash: sha256Hex(refreshToken), user_id: user.id }).first('session_id');
          if (row && row.session_id !== user.sessionId) only.push(row.session_id);
        }
        const revoked = await revokeSessions(trx, user.id, { only });
        await audit.record(trx, { action: 'auth.logout', actorId: user.id, entityType: 'session', entityId: user.sessionId, after: { revokedSessionIds: revoked }, ...rc });
        return revoked;
      });
      afterRevoke(ids);
    },

    /**
     * Ends the login a refresh token belongs to, for a client whose access token has expired.
     * A token that opens no live login is a 401, as at /auth/refresh.
     */
    async logoutWithRefreshToken(refreshToken: string, rc: AuditContext): Promise<void> {
      const ids = await db.transaction(async (trx) => {
        const row = await trx('refresh_tokens as r')
          .join('auth_sessions as s', 's.id', 'r.session_id')
          .where('r.token_hash', sha256Hex(refreshToken))
          .first('r.session_id', 'r.user_id');
        if (!row) throw new UnauthorizedError();
        const revoked = await revokeSessions(trx, row.user_id, { only: [row.session_id] });
        await audit.record(trx, { action: 'auth.logout', actorId: row.user_id, entityType: 'session', entityId: row.session_id, after: { revokedSessionIds: revoked }, ...rc });
        return revoked;
      });
      afterRevoke(ids);
    },

    /** The caller's live logins, newest first, a page at a time (keyset on created_at, id). */
    async listSessions(user: AuthUser, page: { limit: number; cursor?: string }): Promise<{ data: SessionInfo[]; nextCursor: string | null }> {
      const q = db('auth_sessions')
        .where({ user_id: user.id })
        .where('expires_at', '>', db.fn.now())
        .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
        .limit(page.limit + 1);
      if (page.cursor) {
        const [createdAt, id] = decodeCursor(page.cursor, [isIsoInstant, isUuid]);
        q.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [createdAt, id]);
      }
      const rows: { id: string; user_agent: string | null; ip: string | null; created_at: Date; last_used_at: Date }[] = await q;
      const more = rows.length > page.limit;
      const data = rows.slice(0, page.limit).map((s) => ({
        id: s.id,
        userAgent: s.user_agent,
        ip: s.ip,
        createdAt: new Date(s.created_at).toISOString(),
        lastUsedAt: new Date(s.last_used_at).toISOString(),
        current: s.id === user.sessionId,
      }));
      const last = data[data.length - 1];
      return { data, nextCursor: more && last ? encodeCursor([last.createdAt, last.id]) : null };
    },

    /** Revokes one of the caller's logins; another user's session id is simply not found. */
    async revokeSession(user: AuthUser, sessionId: string, rc: AuditContext): Promise<void> {
      const ids = await db.transaction(async (trx) => {
        const revoked = await revokeSessions(trx, user.id, { only: [sessionId] });
        if (!revoked.length) throw new NotFoundError('No such session.');
        await audit.record(trx, { action: 'auth.session_revoked', actorId: user.id, entityType: 'session', entityId: sessionId, ...rc });
        return revoked;
      });
      afterRevoke(ids);
    },

    /**
     * Starts a password reset. Always succeeds from the caller's view; a known, enabled account gets
     * a mail with a single-use link valid for one hour. The work happens after the answer is sent,
     * so the response time does not tell whether the email is known.
     */
    forgotPassword(email: string, rc: AuditContext): void {
      const work = async () => {
        const user = await findByEmail(db, email);
        if (!user || user.disabled) return;
        const token = newOpaqueToken();
        await db.transaction(async (trx) => {
          const now = clock.now();
          await trx('password_reset_tokens').insert({
            token_hash: sha256Hex(token),
            user_id: user.id,
            created_at: now,
            expires_at: new Date(now.getTime() + RESET_TOKEN_TTL_MS),
          });
          await audit.record(trx, { action: 'auth.password_reset_requested', actorId: user.id, entityType: 'user', entityId: user.id, ...rc });
        });
        const link = `${config.publicUrl}/reset-password?token=${encodeURIComponent(token)}`;
        await mailer.send({
          to: user.email,
          subject: 'Reset your Numina password',
          text:
            `Someone (hopefully you) asked to reset the password of your Numina account.\n\n` +
            `Open this link within one hour to choose a new password:\n${link}\n\n` +
            `If it was not you, ignore this mail: your password stays as it is.\n`,
        });
      };
      work().catch((err) => logger.error({ err }, 'password reset request failed'));
    },

    /** Sets a new password with a reset token (single use, unexpired) and revokes every login. */
    async resetPassword(token: string, newPassword: string, rc: AuditContext): Promise<void> {
      const ids = await db.transaction(async (trx) => {
        const now = clock.now();
        const row = await trx('password_reset_tokens').where({ token_hash: sha256Hex(token) }).forUpdate().first();
        if (!row || row.used_at || new Date(row.expires_at).getTime() <= now.getTime()) {
          throw new AppError(400, 'invalid_token', 'The reset link is invalid, used or expired.', [{ path: 'body.token', message: 'is invalid, used or expired' }]);
        }
        const user = await lockUser(trx, row.user_id);
        await checkStrength(newPassword, 'body.newPassword', [user.email, user.name]);
        await trx('users').where({ id: user.id }).update({ password_hash: await hasher.hash(newPassword), updated_at: now });
        // This token and every other outstanding one of the user are spent.
        await trx('password_reset_tokens').where({ user_id: user.id }).whereNull('used_at').update({ used_at: now });
        const revoked = await revokeSessions(trx, user.id);
        await audit.record(trx, { action: 'auth.password_reset', actorId: user.id, entityType: 'user', entityId: user.id, after: { revokedSessionIds: revoked }, ...rc });
        return revoked;
      });
      afterRevoke(ids);
    },

    /** Changes the caller's password after checking the current one; the caller's other logins are revoked. */
    async changePassword(caller: AuthUser, currentPassword: string, newPassword: string, rc: AuditContext): Promise<void> {
      const ids = await db.transaction(async (trx) => {
        const user = await lockUser(trx, caller.id);
        if (!user.password_hash || !(await hasher.verify(user.password_hash, currentPassword))) throw wrongPassword('body.currentPassword');
        await checkStrength(newPassword, 'body.newPassword', [user.email, user.name]);
        await trx('users').where({ id: user.id }).update({ password_hash: await hasher.hash(newPassword), updated_at: clock.now() });
        // A reset link mailed before the change must not undo it.
        await trx('password_reset_tokens').where({ user_id: user.id }).whereNull('used_at').update({ used_at: clock.now() });
        const revoked = await revokeSessions(trx, user.id, { except: caller.sessionId });
        await audit.record(trx, { action: 'auth.password_changed', actorId: user.id, entityType: 'user', entityId: user.id, after: { revokedSessionIds: revoked }, ...rc });
        return revoked;
      });
      afterRevoke(ids);
    },

    /** Starts 2FA setup: a new secret, kept encrypted until a code proves the authenticator has it. */
    async setupTotp(caller: AuthUser): Promise<{ secret: string; otpauthUrl: string }> {
      return db.transaction(async (trx) => {
        const user = await lockUser(trx, caller.id);
        if (user.totp_enabled_at) throw new ConflictError('Two-factor authentication is already on.', 'mfa_already_enabled');
        const secret = totp.newSecret();
        await trx('users').where({ id: user.id }).update({ totp_pending_secret_enc: encryptSecret(config.encryptionKey, secret) });
        return { secret: totp.toBase32(secret), otpauthUrl: totp.keyUri(TOTP_ISSUER, user.email, secret) };
      });
    },

    /**
     * Turns 2FA on with a valid code for the pending secret, returns 10 single-use recovery codes
     * (stored hashed), and revokes the caller's other logins: they were opened with one factor.
     */
    async enableTotp(caller: AuthUser, code: string, rc: AuditContext): Promise<{ recoveryCodes: string[] }> {
      const { codes, ids } = await db.transaction(async (trx) => {
        const user = await lockUser(trx, caller.id);
        if (user.totp_enabled_at) throw new ConflictError('Two-factor authentication is already on.', 'mfa_already_enabled');
        if (!user.totp_pending_secret_enc) throw new ConflictError('Call POST /auth/2fa/setup first.', 'mfa_setup_required');
        const secret = decryptSecret(config.encryptionKey, user.totp_pending_secret_enc);
        const step = await totp.verify(secret, code, clock.now(), null);
        if (step === null) throw wrongCode('body.code');
        await trx('users').where({ id: user.id }).update({
          totp_secret_enc: user.totp_pending_secret_enc,
          totp_pending_secret_enc: null,
          totp_enabled_at: clock.now(),
          totp_last_step: step,
          updated_at: clock.now(),
        });
        const recoveryCodes = await newRecoveryCodes(trx, user.id);
        const revoked = await revokeSessions(trx, user.id, { except: caller.sessionId });
        await audit.record(trx, { action: 'auth.2fa_enabled', actorId: user.id, entityType: 'user', entityId: user.id, after: { revokedSessionIds: revoked }, ...rc });
        return { codes: recoveryCodes, ids: revoked };
      });
      afterRevoke(ids);
      return { recoveryCodes: codes };
    },

    /** Turns 2FA off; needs the password and a current TOTP code (or an unused recovery code). */
    async disableTotp(caller: AuthUser, password: string, code: string, rc: AuditContext): Promise<void> {
      await db.transaction(async (trx) => {
        const user = await lockUser(trx, caller.id);
        if (!user.totp_enabled_at) throw new ConflictError('Two-factor authentication is not on.', 'mfa_not_enabled');
        if (!user.password_hash || !(await hasher.verify(user.password_hash, password))) throw wrongPassword('body.password');
        const second = /^\d{6}$/.test(code) ? { totp: code } : { recoveryCode: code };
        if (!(await consumeSecondFactor(trx, user, second))) throw wrongCode('body.code');
        await trx('users').where({ id: user.id }).update({
          totp_secret_enc: null,
          totp_pending_secret_enc: null,
          totp_enabled_at: null,
          totp_last_step: null,
          updated_at: clock.now(),
        });
        await trx('recovery_codes').where({ user_id: user.id }).delete();
        await audit.record(trx, { action: 'auth.2fa_disabled', actorId: user.id, entityType: 'user', entityId: user.id, ...rc });
      });
    },

    /**
     * An administrator turns a user's 2FA off (device and recovery codes lost): secret, pending
     * secret and recovery codes go, audited with the admin as actor, and the user is mailed after
     * commit so a reset they did not ask for does not go unnoticed. Conflict when 2FA is not on.
     */
    async resetTotpByAdmin(write: WriteContext): Promise<void> {
      const userId = write.userId;
      const user = await db.transaction(async (trx) => {
        const row = await User.query(trx).findById(userId).forUpdate();
        if (!row) throw new NotFoundError('No such user.');
        if (!row.totp_enabled_at) throw new ConflictError('Two-factor authentication is not on for this user.', 'mfa_not_enabled');
        await trx('users')
          .where({ id: userId })
          .update({ totp_secret_enc: null, totp_pending_secret_enc: null, totp_enabled_at: null, totp_last_step: null, updated_at: clock.now() });
        const codes = await trx('recovery_codes').where({ user_id: userId }).delete();
        await audit.recordWrite(trx, write, {
          action: 'auth.2fa_reset_by_admin',
          entityType: 'user',
          entityId: userId,
          before: { twoFactorEnabled: true },
          after: { twoFactorEnabled: false, recoveryCodesDeleted: codes },
        });
        return row;
      });
      await mailer
        .send({
          to: user.email,
          subject: 'Two-factor authentication was turned off on your Numina account',
          text:
            `An administrator turned off two-factor authentication on your Numina account, as asked when a device and its recovery codes are lost.\n\n` +
            `You can now sign in with your password alone. Turn two-factor authentication on again as soon as you can.\n\n` +
            `If you did not ask for this, change your password now and contact support.\n`,
        })
        .catch((err) => logger.error({ err, userId }, '2FA reset mail failed'));
    },

    /** Disables or re-enables an account; disabling revokes every login at once. `actorId` null = operator. */
    async setDisabled(userId: string, disabled: boolean, actorId: string | null, rc?: Partial<AuditContext>): Promise<void> {
      const ids = await db.transaction(async (trx) => {
        const user = await User.query(trx).findById(userId).forUpdate();
        if (!user) throw new NotFoundError('No such user.');
        await trx('users').where({ id: userId }).update({ disabled, updated_at: clock.now() });
        const revoked = disabled ? await revokeSessions(trx, userId) : [];
        await audit.record(trx, {
          action: disabled ? 'user.disabled' : 'user.enabled',
          actorId,
          userId,
          entityType: 'user',
          entityId: userId,
          before: { disabled: user.disabled },
          after: { disabled, revokedSessionIds: revoked },
          ...rc,
        });
        return revoked;
      });
      afterRevoke(ids);
    },
  };
}
