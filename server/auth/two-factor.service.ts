import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/index.js';
import type { UserHooks } from '../context.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config.js';
import type { Db } from '../shared/db.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import type { Mailer } from '../shared/mailer.js';
import type { WriteContext } from '../shared/write-context.js';
import { User } from '../users/index.js';
import { lockUser, wrongCode, wrongPassword, type VerifyReenteredPassword } from './credentials.js';
import { decryptSecret, encryptSecret, newRecoveryCode, normalizeRecoveryCode, sha256Hex, totp } from './crypto.js';
import { afterRevoke, revokeSessions } from './revocation.js';

const RECOVERY_CODE_COUNT = 10;
const TOTP_ISSUER = 'Numina';

export interface TwoFactorDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'encryptionKey' | 'publicUrl'>;
  logger: Logger;
  audit: AuditService;
  hooks: UserHooks;
  mailer: Mailer;
  verifyPassword: VerifyReenteredPassword;
}

/** The second factor a login or a 2FA change presents. */
export interface SecondFactor {
  totp?: string;
  recoveryCode?: string;
}

export type TwoFactorService = ReturnType<typeof createTwoFactorService>;

/**
 * TOTP second factor (RFC 6238) and its recovery codes. Turning it on needs the current password
 * and a code from the new authenticator; turning it off needs the password and a code; the owner
 * is mailed either way. An admin can clear it for a user who lost both authenticator and codes.
 */
export function createTwoFactorService(deps: TwoFactorDeps) {
  const { db, clock, config, logger, audit, hooks, mailer, verifyPassword } = deps;
  const revoked = afterRevoke(hooks, logger);

  /** Tells the owner, after commit, that 2FA changed; a mail that fails is logged, never thrown. */
  function tellOwner(email: string, on: boolean, how: string): void {
    const subject = on ? 'Two-factor authentication is on' : 'Two-factor authentication is off';
    const text =
      `${how} on your Numina account at ${clock.now().toISOString()}.\n\n` +
      (on
        ? 'From now on, signing in needs a code from your authenticator app or one of your recovery codes.\n'
        : 'Signing in now needs only your password.\n') +
      `\nIf this was not you, reset your password at ${config.publicUrl}/forgot-password and contact support: ` +
      'an administrator can clear two-factor authentication for you once you have proven who you are.\n';
    mailer.send({ to: email, subject, text }).catch((err: unknown) => logger.error({ err }, '2FA notice mail failed'));
  }

  async function newRecoveryCodes(trx: Knex.Transaction, userId: string): Promise<string[]> {
    await trx('recovery_codes').where({ user_id: userId }).delete();
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const now = clock.now();
    await trx('recovery_codes').insert(codes.map((c) => ({ user_id: userId, code_hash: sha256Hex(normalizeRecoveryCode(c)), created_at: now })));
    return codes;
  }

  /**
   * Checks a TOTP code (consuming its time step) or a recovery code (consuming it) inside the
   * caller's transaction. Null when neither is valid and unused.
   */
  async function consume(trx: Knex.Transaction, user: User, code: SecondFactor): Promise<'totp' | 'recovery' | null> {
    if (code.totp) {
      if (!user.totp_secret_enc) return null;
      const secret = decryptSecret(config.encryptionKey, user.totp_secret_enc);
      const last = user.totp_last_step == null ? null : Number(user.totp_last_step);
      const step = await totp.verify(secret, code.totp, clock.now(), last);
      if (step === null) return null;
      // Conditional update: of two concurrent uses of one code, only one can move the step forward.
      const n = await trx('users')
        .where({ id: user.id })
        .andWhere((w) => void w.whereNull('totp_last_step').orWhere('totp_last_step', '<', step))
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

  const off = (now: Date) => ({ totp_secret_enc: null, totp_pending_secret_enc: null, totp_enabled_at: null, totp_last_step: null, updated_at: now });

  return {
    /** Checks (and spends) a login's second factor inside the login's transaction. */
    consume,

    /** Starts 2FA setup: a new secret, kept encrypted until a code proves the authenticator has it. */
    async setup(write: WriteContext): Promise<{ secret: string; otpauthUrl: string }> {
      return db.transaction(async (trx) => {
        const user = await lockUser(trx, write.userId);
        if (user.totp_enabled_at) throw new ConflictError('Two-factor authentication is already on.', 'mfa_already_enabled');
        const secret = totp.newSecret();
        await trx('users').where({ id: user.id }).update({ totp_pending_secret_enc: encryptSecret(config.encryptionKey, secret) });
        return { secret: totp.toBase32(secret), otpauthUrl: totp.keyUri(TOTP_ISSUER, user.email, secret) };
      });
    },

    /**
     * Turns 2FA on: the current password (under the failure limit) and a valid code for the pending
     * secret. Returns 10 single-use recovery codes (stored hashed), revokes the caller's other logins
     * (they were opened with one factor) and mails the owner.
     */
    async enable(write: WriteContext, currentSessionId: string, input: { code: string; password: string }): Promise<{ recoveryCodes: string[] }> {
      const checked = await verifyPassword(write, input.password, { path: 'body.password', failureAction: 'auth.2fa_enable_failed' });
      const { codes, ids, email } = await db.transaction(async (trx) => {
        const user = await lockUser(trx, write.userId);
        if (user.password_hash !== checked) throw wrongPassword('body.password');
        if (user.totp_enabled_at) throw new ConflictError('Two-factor authentication is already on.', 'mfa_already_enabled');
        if (!user.totp_pending_secret_enc) throw new ConflictError('Call POST /auth/2fa/setup first.', 'mfa_setup_required');
        const secret = decryptSecret(config.encryptionKey, user.totp_pending_secret_enc);
        const step = await totp.verify(secret, input.code, clock.now(), null);
        if (step === null) throw wrongCode('body.code');
        const now = clock.now();
        await trx('users').where({ id: user.id }).update({
          totp_secret_enc: user.totp_pending_secret_enc,
          totp_pending_secret_enc: null,
          totp_enabled_at: now,
          totp_last_step: step,
          updated_at: now,
        });
        const recoveryCodes = await newRecoveryCodes(trx, user.id);
        const ended = await revokeSessions(trx, user.id, { except: currentSessionId });
        await audit.recordWrite(trx, write, { action: 'auth.2fa_enabled', entityType: 'user', entityId: user.id, after: { revokedSessionIds: ended } });
        return { codes: recoveryCodes, ids: ended, email: user.email };
      });
      revoked(ids);
      tellOwner(email, true, 'Two-factor authentication was turned on');
      return { recoveryCodes: codes };
    },

    /** Turns 2FA off: the password (under the failure limit) and a current TOTP code or an unused recovery code. Mails the owner. */
    async disable(write: WriteContext, input: { password: string; code: string }): Promise<void> {
      const checked = await verifyPassword(write, input.password, { path: 'body.password', failureAction: 'auth.2fa_disable_failed' });
      const email = await db.transaction(async (trx) => {
        const user = await lockUser(trx, write.userId);
        if (user.password_hash !== checked) throw wrongPassword('body.password');
        if (!user.totp_enabled_at) throw new ConflictError('Two-factor authentication is not on.', 'mfa_not_enabled');
        const second = /^\d{6}$/.test(input.code) ? { totp: input.code } : { recoveryCode: input.code };
        if (!(await consume(trx, user, second))) throw wrongCode('body.code');
        await trx('users').where({ id: user.id }).update(off(clock.now()));
        await trx('recovery_codes').where({ user_id: user.id }).delete();
        await audit.recordWrite(trx, write, { action: 'auth.2fa_disabled', entityType: 'user', entityId: user.id });
        return user.email;
      });
      tellOwner(email, false, 'Two-factor authentication was turned off');
    },

    /**
     * The recovery path for a user who lost the authenticator and every recovery code: an admin
     * (`actorWrite.actorId`), having proven who the user is, clears 2FA. Only the second factor
     * goes — no login is revoked, the password stays — the change is audited in the user's chain
     * with the admin as actor, and the user is mailed. False when 2FA was not on (nothing changes).
     */
    async clearTwoFactor(userId: string, actorWrite: WriteContext): Promise<boolean> {
      const write: WriteContext = { ...actorWrite, userId };
      const email = await db.transaction(async (trx) => {
        const user = await User.query(trx).findById(userId).forUpdate();
        if (!user) throw new NotFoundError('No such user.');
        if (!user.totp_enabled_at) return null;
        await trx('users').where({ id: user.id }).update(off(clock.now()));
        const codes = await trx('recovery_codes').where({ user_id: user.id }).delete();
        await audit.recordWrite(trx, write, {
          action: 'auth.2fa_cleared',
          entityType: 'user',
          entityId: user.id,
          before: { twoFactorEnabled: true },
          after: { twoFactorEnabled: false, recoveryCodesDeleted: codes },
        });
        return user.email;
      });
      if (email) tellOwner(email, false, 'An administrator turned two-factor authentication off');
      return email !== null;
    },
  };
}
