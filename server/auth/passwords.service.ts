import type { Logger } from 'pino';
import type { AuditService } from '../audit/index.js';
import type { UserHooks } from '../context.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config.js';
import type { Db } from '../shared/db.js';
import type { Mailer } from '../shared/mailer.js';
import type { AuditContext, WriteContext } from '../shared/write-context.js';
import { checkStrength, findByEmail, invalidToken, lockUser, wrongPassword, type VerifyReenteredPassword } from './credentials.js';
import { newOpaqueToken, sha256Hex, type PasswordHasher } from './crypto.js';
import { afterRevoke, revokeSessions } from './revocation.js';

export const RESET_TOKEN_TTL_MS = 60 * 60 * 1000;

export interface PasswordsDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'publicUrl'>;
  logger: Logger;
  audit: AuditService;
  hooks: UserHooks;
  mailer: Mailer;
  hasher: PasswordHasher;
  verifyPassword: VerifyReenteredPassword;
}

export type PasswordsService = ReturnType<typeof createPasswordsService>;

/** Forgotten passwords (a mailed single-use link), resets, and a signed-in user's password change. */
export function createPasswordsService(deps: PasswordsDeps) {
  const { db, clock, config, logger, audit, hooks, mailer, hasher, verifyPassword } = deps;
  const revoked = afterRevoke(hooks, logger);

  return {
    /**
     * Starts a password reset. Always succeeds from the caller's view; a known, enabled account gets
     * a mail with a single-use link valid for one hour. The work happens after the answer is sent,
     * so the response time does not tell whether the email is known.
     */
    forgot(email: string, facts: AuditContext): void {
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
          await audit.record(trx, { action: 'auth.password_reset_requested', actorId: user.id, entityType: 'user', entityId: user.id, ...facts });
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
      work().catch((err: unknown) => logger.error({ err }, 'password reset request failed'));
    },

    /** Sets a new password with a reset token (single use, unexpired) and revokes every login. */
    async reset(token: string, newPassword: string, facts: AuditContext): Promise<void> {
      const ids = await db.transaction(async (trx) => {
        const now = clock.now();
        const row = await trx('password_reset_tokens')
          .where({ token_hash: sha256Hex(token) })
          .forUpdate()
          .first<{ user_id: string; expires_at: Date; used_at: Date | null } | undefined>();
        if (!row || row.used_at || new Date(row.expires_at).getTime() <= now.getTime()) throw invalidToken();
        const user = await lockUser(trx, row.user_id);
        await checkStrength(newPassword, 'body.newPassword', [user.email, user.name]);
        await trx('users').where({ id: user.id }).update({ password_hash: await hasher.hash(newPassword), updated_at: now });
        // This token and every other outstanding one of the user are spent.
        await trx('password_reset_tokens').where({ user_id: user.id }).whereNull('used_at').update({ used_at: now });
        const ended = await revokeSessions(trx, user.id);
        await audit.record(trx, { action: 'auth.password_reset', actorId: user.id, entityType: 'user', entityId: user.id, after: { revokedSessionIds: ended }, ...facts });
        return ended;
      });
      revoked(ids);
    },

    /**
     * Changes the signed-in user's password. The current one is checked under the failure limit
     * (a wrong one is audited as `auth.password_change_failed`, outside the change's transaction);
     * the user's other logins are revoked, the one making the change stays.
     */
    async change(write: WriteContext, currentSessionId: string, input: { currentPassword: string; newPassword: string }): Promise<void> {
      const checked = await verifyPassword(write, input.currentPassword, { path: 'body.currentPassword', failureAction: 'auth.password_change_failed' });
      const ids = await db.transaction(async (trx) => {
        const user = await lockUser(trx, write.userId);
        // Changed by another request since the check: the password given is no longer the current one.
        if (user.password_hash !== checked) throw wrongPassword('body.currentPassword');
        await checkStrength(input.newPassword, 'body.newPassword', [user.email, user.name]);
        const now = clock.now();
        await trx('users').where({ id: user.id }).update({ password_hash: await hasher.hash(input.newPassword), updated_at: now });
        // A reset link mailed before the change must not undo it.
        await trx('password_reset_tokens').where({ user_id: user.id }).whereNull('used_at').update({ used_at: now });
        const ended = await revokeSessions(trx, user.id, { except: currentSessionId });
        await audit.recordWrite(trx, write, { action: 'auth.password_changed', entityType: 'user', entityId: user.id, after: { revokedSessionIds: ended } });
        return ended;
      });
      revoked(ids);
    },
  };
}
