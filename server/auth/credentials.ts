/**
 * What the auth services share: finding and locking a user, the password-strength check, the
 * errors every re-entered password answers with, and the failure limit that guards every place a
 * password is checked (login, password change, 2FA enable/disable, email change, account erase).
 */
import { ipKeyGenerator } from 'express-rate-limit';
import type { Knex } from 'knex';
import type { AuditService } from '../audit/index.js';
import type { Db } from '../shared/db.js';
import { AppError, RateLimitedError, UnauthorizedError, ValidationError } from '../shared/errors.js';
import { createFailureCounter, type LimiterBackends } from '../shared/rate-limit.js';
import type { WriteContext } from '../shared/write-context.js';
import { User } from '../users/index.js';
import { newOpaqueToken, type PasswordHasher } from './crypto.js';
import { passwordProblems } from './strength.js';

export const findByEmail = (q: Knex | Knex.Transaction, email: string) =>
  User.query(q).whereRaw('lower(email) = ?', [email.toLowerCase()]).first();

/** The user row, locked for the rest of the transaction; a user gone meanwhile is a 401. */
export async function lockUser(trx: Knex.Transaction, userId: string): Promise<User> {
  const user = await User.query(trx).findById(userId).forUpdate();
  if (!user) throw new UnauthorizedError();
  return user;
}

/** Refuses a new password that is short, common or built from the user's own data (400 naming `path`). */
export async function checkStrength(password: string, path: string, inputs: (string | null | undefined)[]): Promise<void> {
  const problems = await passwordProblems(password, path, inputs.filter((s): s is string => !!s));
  if (problems.length) throw new ValidationError('The password is too weak.', problems);
}

export const wrongPassword = (path: string) =>
  new AppError(400, 'invalid_password', 'The password is not correct.', [{ path, message: 'is not correct' }]);
export const wrongCode = (path: string) =>
  new AppError(400, 'invalid_code', 'The code is not valid.', [{ path, message: 'is not a valid, unused code' }]);
export const invalidToken = (path = 'body.token') =>
  new AppError(400, 'invalid_token', 'The link is invalid, used or expired.', [{ path, message: 'is invalid, used or expired' }]);

const MINUTE = 60_000;

/** docs/api.md, Auth: 10 failures per (account, client address) and 100 per account, per 15 minutes. */
export const PASSWORD_FAILURE_LIMITS = { windowMs: 15 * MINUTE, perAddress: 10, perAccount: 100 } as const;

/** An attempt that passed the limit; report how the password check went. */
export interface PasswordAttempt {
  /** The password was right: the attempt does not count. */
  succeeded(): Promise<void>;
}

/**
 * The failure limit of every password check, shared by all instances (PostgreSQL, or Redis with
 * `REDIS_URL`). Failures count per (account, client address) — so a stranger elsewhere does not
 * lock the owner out — and per account across addresses, so distributed guessing stays bounded.
 * A login and a re-entered password of one account draw on the same budget.
 */
export interface PasswordFailureLimit {
  /** Claims one attempt for `account` (a lowercased email) from `ip`; 429 when over either limit. */
  attempt(account: string, ip: string | null): Promise<PasswordAttempt>;
}

export function createPasswordFailureLimit(backends: LimiterBackends): PasswordFailureLimit {
  const { windowMs, perAddress, perAccount } = PASSWORD_FAILURE_LIMITS;
  const byAddress = createFailureCounter(backends, { prefix: 'pw-fail-addr', windowMs });
  const byAccount = createFailureCounter(backends, { prefix: 'pw-fail-acct', windowMs });
  const limited = (resetTime: Date) => new RateLimitedError(Math.max(1, (resetTime.getTime() - Date.now()) / 1000), 'Too many failed password attempts. Try again later.');
  return {
    async attempt(account, ip) {
      const addressKey = `${account}|${ipKeyGenerator(ip ?? 'unknown')}`;
      // Blocked attempts from one address stop here and never reach the per-account count: one
      // address alone cannot use up the budget the owner logs in with from elsewhere.
      const a = await byAddress.increment(addressKey);
      if (a.hits > perAddress) throw limited(a.resetTime);
      const b = await byAccount.increment(account);
      if (b.hits > perAccount) throw limited(b.resetTime);
      return {
        async succeeded() {
          await byAddress.decrement(addressKey);
          await byAccount.decrement(account);
        },
      };
    },
  };
}

/**
 * Verifies a password the signed-in user typed again, under the failure limit. A wrong one is a
 * 400 `invalid_password` naming `path`, audited as `failureAction` in its own transaction (the
 * caller's transaction, if any, has not started or is rolled back); too many are a 429.
 * Returns the hash that was checked: the caller's transaction confirms it is still current.
 */
export type VerifyReenteredPassword = (write: WriteContext, password: string, opts: { path: string; failureAction: string }) => Promise<string>;

export function createReenteredPasswordCheck(deps: { db: Db; audit: AuditService; hasher: PasswordHasher; limit: PasswordFailureLimit }): VerifyReenteredPassword {
  const { db, audit, hasher, limit } = deps;
  const dummyHash = hasher.hash(newOpaqueToken());
  return async (write, password, { path, failureAction }) => {
    const user = await User.query(db).findById(write.userId);
    if (!user) throw new UnauthorizedError();
    const attempt = await limit.attempt(user.email.toLowerCase(), write.audit.ip);
    const hash = user.password_hash ?? (await dummyHash);
    const ok = (await hasher.verify(hash, password)) && !!user.password_hash;
    if (ok) {
      await attempt.succeeded();
      return hash;
    }
    await db.transaction(async (trx) => {
      await audit.recordWrite(trx, write, { action: failureAction, entityType: 'user', entityId: user.id, after: { reason: 'wrong_password' } });
    });
    throw wrongPassword(path);
  };
}
