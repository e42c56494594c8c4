import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/index.js';
import type { UserHooks } from '../context.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config.js';
import { decodeCursor, isIsoInstant, isUuid, keysetPage, type KeysetPage } from '../shared/cursor.js';
import type { Db } from '../shared/db.js';
import { ConflictError, NotFoundError, UnauthorizedError, type AppError } from '../shared/errors.js';
import type { AuthUser } from '../shared/http.js';
import type { LimitHit } from '../shared/rate-limit.js';
import type { AuditContext, WriteContext } from '../shared/write-context.js';
import { toProfile, User, type Profile, type Role } from '../users/index.js';
import { checkStrength, findByEmail, type PasswordFailureLimit } from './credentials.js';
import { ACCESS_TOKEN_TTL_SECONDS, createAccessTokens, newOpaqueToken, sha256Hex, type PasswordHasher } from './crypto.js';
import type { EmailService, PendingVerification } from './email.service.js';
import { afterRevoke, revokeSessions } from './revocation.js';
import { checkSession, sessionStore, type CountRequest } from './sessions.js';
import type { TwoFactorService } from './two-factor.service.js';

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

export interface TokensDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'jwtSecret'>;
  logger: Logger;
  audit: AuditService;
  hooks: UserHooks;
  hasher: PasswordHasher;
  limit: PasswordFailureLimit;
  twoFactor: Pick<TwoFactorService, 'consume'>;
  email: Pick<EmailService, 'issueVerification' | 'mailVerification'>;
}

/** A refresh_tokens row as the queries here read it. */
interface RefreshTokenRow {
  token_hash: string;
  user_id: string;
  session_id: string;
  spent_at: Date | null;
}

const invalidCredentials = () => new UnauthorizedError('The email or password is not correct.', 'invalid_credentials');
const accountDisabled = () => new UnauthorizedError('This account is disabled.', 'account_disabled');

/** Thrown inside a transaction to roll it back, then answered outside once a failure is recorded. */
class LoginRejected extends Error {
  constructor(
    readonly userId: string,
    readonly reason: string,
    readonly answer: AppError,
  ) {
    super(reason);
  }
}

export type TokensService = ReturnType<typeof createTokensService>;

/**
 * Accounts and logins: registration, login (lucia session + JWT access token + rotating refresh
 * token), refresh, logout, the sessions list, access-token verification and disabling a user.
 * Each change runs in one transaction with its audit entry and, when logins are revoked, the
 * `numina_sessions_revoked` notification.
 */
export function createTokensService(deps: TokensDeps) {
  const { db, clock, config, logger, audit, hooks, hasher, limit, twoFactor, email } = deps;
  const tokens = createAccessTokens(config.jwtSecret);
  const revoked = afterRevoke(hooks, logger);
  // Unknown emails are verified against this, so they cost what a wrong password costs.
  const dummyHash = hasher.hash(newOpaqueToken());

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

  async function recordLoginFailure(userId: string | null, reason: string, facts: AuditContext, via?: string): Promise<void> {
    await db.transaction(async (trx) => {
      // Never the password; the email only when it names a real user (it then lives in that user's chain).
      const after = via ? { reason, via } : { reason };
      await audit.record(trx, { action: 'auth.login_failed', actorId: userId, userId, entityType: 'user', entityId: userId, after, ...facts });
    });
  }

  /**
   * The one sign-in path (API login and admin panel): the failure limit first, the password
   * (unknown emails cost the same), disabled, an optional role gate, then the second factor consumed
   * in the transaction `open` runs in. Every refusal is audited before it is answered; a wrong
   * password or second factor counts against the limit, a right password does not.
   */
  async function signIn<T>(
    input: LoginInput,
    facts: AuditContext,
    opts: { via?: string; role?: Role },
    open: (trx: Knex.Transaction, user: User, mfa: string | null, rehashed: boolean) => Promise<T>,
  ): Promise<T> {
    const fail = (userId: string | null, reason: string) => recordLoginFailure(userId, reason, facts, opts.via);
    const attempt = await limit.attempt(input.email.toLowerCase(), facts.ip);
    const user = await findByEmail(db, input.email);
    const hash = user?.password_hash ?? (await dummyHash);
    const ok = (await hasher.verify(hash, input.password)) && !!user?.password_hash;
    if (!user || !ok) {
      await fail(user?.id ?? null, user ? 'wrong_password' : 'unknown_email');
      throw invalidCredentials();
    }
    if (user.disabled) {
      await attempt.succeeded();
      await fail(user.id, 'disabled');
      throw accountDisabled();
    }
    if (opts.role && user.role !== opts.role) {
      await attempt.succeeded();
      await fail(user.id, `not_${opts.role}`);
      throw invalidCredentials();
    }
    if (user.totp_enabled_at && !input.totp && !input.recoveryCode) {
      await attempt.succeeded();
      await fail(user.id, 'mfa_required');
      throw new UnauthorizedError('This account uses two-factor authentication: send `totp` or `recoveryCode`.', 'mfa_required');
    }
    const upgraded = hasher.needsRehash(hash) ? await hasher.hash(input.password) : null;
    let result: T;
    try {
      result = await db.transaction(async (trx) => {
        let mfa: string | null = null;
        if (user.totp_enabled_at) {
          mfa = await twoFactor.consume(trx, user, input);
          if (!mfa) throw new LoginRejected(user.id, 'mfa_invalid', new UnauthorizedError('The two-factor code is not valid.', 'mfa_invalid'));
        }
        // A hash made with older Argon2 parameters is replaced now that we hold the password.
        if (upgraded) await trx('users').where({ id: user.id, password_hash: hash }).update({ password_hash: upgraded });
        return open(trx, user, mfa, !!upgraded);
      });
    } catch (err) {
      // A wrong second factor counts as a failure: codes are guessed under the same limit.
      if (err instanceof LoginRejected) {
        await fail(err.userId, err.reason);
        throw err.answer;
      }
      throw err;
    }
    await attempt.succeeded();
    return result;
  }

  return {
    /**
     * Resolves an access token to its caller. The login is looked up on every call (no cache), so
     * revocation is immediate on every instance. With `count`, the request is counted against that
     * limit bucket in the same statement (`hit`).
     */
    async verifyAccessToken(token: string, count?: CountRequest): Promise<AuthUser & { hit?: LimitHit }> {
      const claims = await tokens.verify(token, clock.now());
      if (!claims) throw new UnauthorizedError();
      const checked = await checkSession(db, claims.sid, claims.sub, count);
      if (!checked) throw new UnauthorizedError();
      // The role comes from the database, not the token: a demotion applies to tokens already issued.
      return { id: checked.user.id, role: checked.user.role, sessionId: claims.sid, ...(checked.hit ? { hit: checked.hit } : {}) };
    },

    /**
     * Creates a user (lowercased email, strong Argon2id-hashed password), runs the userCreated hooks
     * and makes an email-verification link, in one transaction; the link is mailed after commit.
     */
    async register(input: RegisterInput, facts: AuditContext): Promise<Profile> {
      await checkStrength(input.password, 'body.password', [input.email, input.name]);
      if (await findByEmail(db, input.email)) throw new ConflictError('An account with this email already exists.', 'email_taken');
      const passwordHash = await hasher.hash(input.password);
      let verification: PendingVerification;
      let profile: Profile;
      try {
        [profile, verification] = await db.transaction(async (trx) => {
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
            ...facts,
          });
          return [toProfile(user), await email.issueVerification(trx, user.id, user.email)] as const;
        });
      } catch (err) {
        // Two registrations racing for one email: the unique index on lower(email) decides.
        if ((err as { code?: string }).code === '23505' || (err as { nativeError?: { code?: string } }).nativeError?.code === '23505')
          throw new ConflictError('An account with this email already exists.', 'email_taken');
        throw err;
      }
      email.mailVerification(verification);
      return profile;
    },

    /**
     * Verifies credentials (and the second factor when on), opens a login and returns its tokens.
     * Every attempt passes the failure limit first; a wrong password or second factor counts, a
     * right password does not.
     */
    async login(input: LoginInput, facts: AuditContext): Promise<TokenPair> {
      return signIn(input, facts, {}, async (trx, user, mfa, rehashed) => {
        const now = clock.now();
        // Logins that ran out are dropped here rather than by a sweeper: they are only ever this user's.
        await trx('auth_sessions').where({ user_id: user.id }).where('expires_at', '<=', trx.fn.now()).delete();
        const session = await sessionStore(trx).create(user.id, randomUUID(), { ip: facts.ip, userAgent: facts.userAgent, createdAt: now, lastUsedAt: now });
        const issued = await issueTokens(trx, user, session.id, session.expiresAt);
        await audit.record(trx, {
          action: 'auth.login',
          actorId: user.id,
          entityType: 'session',
          entityId: session.id,
          after: { mfa, passwordRehashed: rehashed },
          ...facts,
        });
        return issued;
      });
    },

    /**
     * The same checks as `login` under the same failure limit (password, disabled, second factor
     * consumed, failures audited as `auth.login_failed` with `via`), for a sign-in that keeps its
     * own session (the admin panel): no API login or token is opened. With `role`, other users are
     * refused like a wrong password, before a second-factor code is spent. Success is audited as
     * `<via>.login`.
     */
    async verifyCredentials(input: LoginInput, facts: AuditContext, opts: { via: string; role?: Role }): Promise<Profile> {
      return signIn(input, facts, opts, async (trx, user, mfa, rehashed) => {
        await audit.record(trx, { action: `${opts.via}.login`, actorId: user.id, entityType: 'user', entityId: user.id, after: { mfa, passwordRehashed: rehashed }, ...facts });
        return toProfile(user);
      });
    },

    /** Live logins (unexpired sessions) of all users: the admin dashboard's figure. */
    async countActiveLogins(): Promise<number> {
      const row = (await db('auth_sessions').where('expires_at', '>', clock.now()).count({ n: '*' }).first()) as { n: string | number } | undefined;
      return Number(row?.n ?? 0);
    },

    /**
     * Rotates a refresh token. A spent token presented again means it was copied: the whole login
     * (including the token that replaced it) is revoked and the reuse is audited.
     */
    async refresh(refreshToken: string, facts: AuditContext): Promise<TokenPair> {
      const outcome = await db.transaction(async (trx) => {
        const row = await trx('refresh_tokens').where({ token_hash: sha256Hex(refreshToken) }).forUpdate().first<RefreshTokenRow | undefined>();
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
            ...facts,
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
        await audit.record(trx, { action: 'auth.refresh', actorId: row.user_id, entityType: 'session', entityId: row.session_id, ...facts });
        return { kind: 'ok' as const, pair };
      });
      if (outcome.kind === 'ok') return outcome.pair;
      if (outcome.kind === 'reuse') {
        revoked(outcome.ids);
        throw new UnauthorizedError('This refresh token was already used; the login has been revoked.', 'refresh_token_reused');
      }
      if (outcome.kind === 'disabled') throw accountDisabled();
      throw new UnauthorizedError('The refresh token is not valid.', 'invalid_refresh_token');
    },

    /** Ends the caller's login `currentSessionId` (and the login of `refreshToken`, when it is the caller's). */
    async logout(write: WriteContext, currentSessionId: string, refreshToken: string | undefined): Promise<void> {
      const ids = await db.transaction(async (trx) => {
        const only = [currentSessionId];
        if (refreshToken) {
          const row = await trx('refresh_tokens')
            .where({ token_hash: sha256Hex(refreshToken), user_id: write.userId })
            .first<Pick<RefreshTokenRow, 'session_id'> | undefined>('session_id');
          if (row && row.session_id !== currentSessionId) only.push(row.session_id);
        }
        const ended = await revokeSessions(trx, write.userId, { only });
        await audit.recordWrite(trx, write, { action: 'auth.logout', entityType: 'session', entityId: currentSessionId, after: { revokedSessionIds: ended } });
        return ended;
      });
      revoked(ids);
    },

    /**
     * Ends the login a refresh token belongs to, for a client whose access token has expired.
     * A token that opens no live login is a 401, as at /auth/refresh.
     */
    async logoutWithRefreshToken(refreshToken: string, facts: AuditContext): Promise<void> {
      const ids = await db.transaction(async (trx) => {
        const row = await trx('refresh_tokens as r')
          .join('auth_sessions as s', 's.id', 'r.session_id')
          .where('r.token_hash', sha256Hex(refreshToken))
          .first<Pick<RefreshTokenRow, 'session_id' | 'user_id'> | undefined>('r.session_id', 'r.user_id');
        if (!row) throw new UnauthorizedError();
        const ended = await revokeSessions(trx, row.user_id, { only: [row.session_id] });
        await audit.record(trx, { action: 'auth.logout', actorId: row.user_id, entityType: 'session', entityId: row.session_id, after: { revokedSessionIds: ended }, ...facts });
        return ended;
      });
      revoked(ids);
    },

    /** The caller's live logins, newest first, a page at a time (keyset on created_at, id). */
    async listSessions(user: AuthUser, page: { limit: number; cursor?: string }): Promise<KeysetPage<SessionInfo>> {
      const q = db('auth_sessions')
        .where({ user_id: user.id })
        .where('expires_at', '>', db.fn.now())
        .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
        .limit(page.limit + 1);
      if (page.cursor) {
        const [createdAt, id] = decodeCursor(page.cursor, [isIsoInstant, isUuid]);
        q.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [createdAt, id]);
      }
      const rows = (await q) as { id: string; user_agent: string | null; ip: string | null; created_at: Date; last_used_at: Date }[];
      const view = (s: (typeof rows)[number]): SessionInfo => ({
        id: s.id,
        userAgent: s.user_agent,
        ip: s.ip,
        createdAt: new Date(s.created_at).toISOString(),
        lastUsedAt: new Date(s.last_used_at).toISOString(),
        current: s.id === user.sessionId,
      });
      return keysetPage(rows, page.limit, view, (s) => [new Date(s.created_at).toISOString(), s.id]);
    },

    /** Revokes one of the caller's logins; another user's session id is simply not found. */
    async revokeSession(write: WriteContext, sessionId: string): Promise<void> {
      const ids = await db.transaction(async (trx) => {
        const ended = await revokeSessions(trx, write.userId, { only: [sessionId] });
        if (!ended.length) throw new NotFoundError('No such session.');
        await audit.recordWrite(trx, write, { action: 'auth.session_revoked', entityType: 'session', entityId: sessionId });
        return ended;
      });
      revoked(ids);
    },

    /**
     * Disables or re-enables the account `write.userId`; disabling revokes every login at once.
     * `write.actorId` is the operator (null = command line).
     */
    async setDisabled(write: WriteContext, disabled: boolean): Promise<void> {
      const userId = write.userId;
      const ids = await db.transaction(async (trx) => {
        const user = await User.query(trx).findById(userId).forUpdate();
        if (!user) throw new NotFoundError('No such user.');
        await trx('users').where({ id: userId }).update({ disabled, updated_at: clock.now() });
        const ended = disabled ? await revokeSessions(trx, userId) : [];
        await audit.recordWrite(trx, write, {
          action: disabled ? 'user.disabled' : 'user.enabled',
          entityType: 'user',
          entityId: userId,
          before: { disabled: user.disabled },
          after: { disabled, revokedSessionIds: ended },
        });
        return ended;
      });
      revoked(ids);
    },
  };
}
