import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/index.js';
import { afterRevoke, revokeSessions, wrongCode, wrongPassword, type AuthServices } from '../auth/index.js';
import type { UserHooks } from '../context.js';
import type { Clock } from '../shared/clock.js';
import type { Db } from '../shared/db.js';
import { AppError, ConflictError, NotFoundError } from '../shared/errors.js';
import type { Jobs } from '../shared/jobs.js';
import { forgetRateLimits } from '../shared/rate-limit.js';
import type { AuditContext, WriteContext } from '../shared/write-context.js';
import { tombstoneUser, User } from '../users/index.js';
import { ownedTables } from './gdpr.catalog.js';

/** What the user presents to erase their own account: the password and, with 2FA on, a second factor. */
export interface EraseProof {
  password: string;
  /** A current TOTP code (or a recovery code: anything but six digits is taken as one). */
  totp?: string;
  recoveryCode?: string;
}

export interface EraseService {
  /**
   * The signed-in user erases their own data (DELETE /users/me): the password, checked under the
   * failure limit every re-entered password shares (wrong: 400 `invalid_password`, nothing
   * changes), then with 2FA on a TOTP or recovery code (missing: 400 `mfa_required`; wrong: 400
   * `invalid_code`). The erasure itself is `erase` below.
   */
  eraseSelf(write: WriteContext, proof: EraseProof): Promise<void>;
  /** An admin erases a user (the panel's action): no password; the admin is the audit entry's actor. */
  eraseByAdmin(userId: string, admin: { id: string; rc: AuditContext }): Promise<void>;
}

export interface EraseDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  hooks: UserHooks;
  jobs: Pick<Jobs, 'deleteQueued'>;
  auth: Pick<AuthServices, 'verifyPassword' | 'twoFactor'>;
}

const mfaRequired = () =>
  new AppError(400, 'mfa_required', 'This account uses two-factor authentication: send `totp` (a current code) or `recoveryCode`.', [
    { path: 'body.totp', message: 'is required while two-factor authentication is on' },
  ]);

/**
 * The GDPR erasure ("delete my data"). One database transaction does all of it, or none:
 * 1. the user row is locked (an erased or unknown user is 404; the last enabled admin is 409);
 * 2. every login goes (sessions, and refresh tokens with them): access tokens stop at once, since
 *    each request looks its session up;
 * 3. the `userErased` hooks run, in registration order: the features' own ordered cleanup, and
 *    realtime's signal that drops the user's sockets on every instance once this commits;
 * 4. a sweep over every table the catalog says holds user rows (`ownedTables`: a foreign key to
 *    users, or a `user_id` column), children first — so a table added later without a hook is
 *    still emptied of the user's rows (outbox events, tokens, codes and the rest go here);
 * 5. queued jobs whose payload names the user are deleted, and the user's rate-limit counters;
 * 6. the users row becomes the tombstone (`erased_at`, no personal data, email free again);
 * 7. the user's audit entries lose their personal fields (`redactUser`; the chain still verifies),
 *    and one entry records the erasure itself with no personal data: action, actor (the user or
 *    the admin), request id — the user's own ip and user agent are not kept.
 * After commit the revoked logins' sockets are dropped on this instance at once.
 */
export function createEraseService(deps: EraseDeps): EraseService {
  const { db, clock, logger, audit, hooks, jobs, auth } = deps;
  const revoked = afterRevoke(hooks, logger);

  async function keepAnAdmin(trx: Knex.Transaction, user: User): Promise<void> {
    if (user.role !== 'admin') return;
    // Every enabled admin row locked, as a demotion does: two admins erasing each other cannot both pass.
    const admins: { id: string }[] = await trx('users').where({ role: 'admin', disabled: false }).whereNull('erased_at').forUpdate().select('id');
    if (!admins.some((a) => a.id !== user.id)) throw new ConflictError('This is the last admin: make another user admin first.', 'last_admin');
  }

  async function erase(write: WriteContext, check: (trx: Knex.Transaction, user: User) => Promise<void>): Promise<void> {
    const userId = write.userId;
    const outcome = await db.transaction(async (trx) => {
      const user = await User.query(trx).findById(userId).forUpdate();
      if (!user || user.erased_at) throw new NotFoundError('No such user.');
      await check(trx, user);
      await keepAnAdmin(trx, user);
      const sessionIds = await revokeSessions(trx, userId);
      for (const hook of hooks.userErased) await hook(trx, userId);
      let swept = 0;
      for (const t of await ownedTables(trx)) {
        swept += await trx(t.name)
          .where((w) => {
            for (const c of t.columns) void w.orWhere(c, userId);
          })
          .delete();
      }
      const jobsDeleted = await jobs.deleteQueued(trx, { key: 'userId', value: userId });
      await forgetRateLimits(trx, [userId, user.email?.toLowerCase()]);
      await tombstoneUser(trx, userId, clock.now());
      const redacted = await audit.redactUser(trx, userId);
      const bySelf = write.actorId === userId;
      await audit.record(trx, {
        action: 'user.erased',
        actorId: write.actorId,
        userId,
        entityType: 'user',
        entityId: userId,
        after: { by: bySelf ? 'self' : 'admin' },
        requestId: write.audit.requestId,
        // The erased user's own address and browser are personal data; an admin's stay, for accountability.
        ip: bySelf ? null : write.audit.ip,
        userAgent: bySelf ? null : write.audit.userAgent,
      });
      return { sessionIds, swept, jobsDeleted, redacted };
    });
    revoked(outcome.sessionIds);
    logger.info({ userId, actorId: write.actorId, rowsSwept: outcome.swept, jobsDeleted: outcome.jobsDeleted, auditRedacted: outcome.redacted }, 'user erased');
  }

  return {
    async eraseSelf(write, proof) {
      const checked = await auth.verifyPassword(write, proof.password, { path: 'body.password', failureAction: 'user.erase_failed' });
      await erase(write, async (trx, user) => {
        // Changed since it was checked (a concurrent password change): the password given is no longer it.
        if (user.password_hash !== checked) throw wrongPassword('body.password');
        if (!user.totp_enabled_at) return;
        const code = proof.totp ?? proof.recoveryCode;
        if (!code) throw mfaRequired();
        const second = proof.totp && /^\d{6}$/.test(proof.totp) ? { totp: proof.totp } : { recoveryCode: code };
        if (!(await auth.twoFactor.consume(trx, user, second))) throw wrongCode(proof.totp ? 'body.totp' : 'body.recoveryCode');
      });
    },

    async eraseByAdmin(userId, admin) {
      await erase({ userId, actorId: admin.id, audit: admin.rc }, () => Promise.resolve());
    },
  };
}
