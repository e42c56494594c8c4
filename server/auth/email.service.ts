import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { AuditService } from '../audit/index.js';
import type { Clock } from '../shared/clock.js';
import type { Config } from '../shared/config.js';
import type { Db } from '../shared/db.js';
import { ConflictError } from '../shared/errors.js';
import type { Mailer } from '../shared/mailer.js';
import type { WriteContext } from '../shared/write-context.js';
import { findByEmail, invalidToken, lockUser, wrongPassword, type VerifyReenteredPassword } from './credentials.js';
import { newOpaqueToken, sha256Hex } from './crypto.js';

/** Email links (verification, change) are single use and live 24 hours (docs/api.md, Users). */
export const EMAIL_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

type Purpose = 'verify' | 'change';

export interface EmailDeps {
  db: Db;
  clock: Clock;
  config: Pick<Config, 'publicUrl'>;
  logger: Logger;
  audit: AuditService;
  mailer: Mailer;
  verifyPassword: VerifyReenteredPassword;
}

/** A verification link made inside the registration's transaction, mailed after it commits. */
export interface PendingVerification {
  email: string;
  token: string;
}

export type EmailService = ReturnType<typeof createEmailService>;

const isUniqueViolation = (err: unknown) =>
  (err as { code?: string }).code === '23505' || (err as { nativeError?: { code?: string } }).nativeError?.code === '23505';

/** `ada@example.com` → `a***@example.com`: enough for the owner to recognise, little for anyone else. */
function masked(email: string): string {
  const at = email.lastIndexOf('@');
  return at > 0 ? `${email[0]}***${email.slice(at)}` : '***';
}

/**
 * Proving an address: registration mails a verification link; an email change mails a confirmation
 * link to the new address (and a notice to the old one) and applies only when it is followed.
 * Tokens are stored as SHA-256 hashes, single use, 24 hours; every step is audited.
 */
export function createEmailService(deps: EmailDeps) {
  const { db, clock, config, logger, audit, mailer, verifyPassword } = deps;

  async function issue(trx: Knex.Transaction, userId: string, purpose: Purpose, email: string): Promise<string> {
    const token = newOpaqueToken();
    const now = clock.now();
    // One live link per purpose: an older one stops working when a new one is sent.
    await trx('email_tokens').where({ user_id: userId, purpose }).whereNull('used_at').update({ used_at: now });
    await trx('email_tokens').insert({
      token_hash: sha256Hex(token),
      user_id: userId,
      purpose,
      email,
      created_at: now,
      expires_at: new Date(now.getTime() + EMAIL_TOKEN_TTL_MS),
    });
    return token;
  }

  /** The caller's unused, unexpired token of `purpose`, locked; anything else is 400 `invalid_token`. */
  async function claim(trx: Knex.Transaction, userId: string, purpose: Purpose, token: string): Promise<{ email: string }> {
    const row = await trx('email_tokens')
      .where({ token_hash: sha256Hex(token) })
      .forUpdate()
      .first<{ user_id: string; purpose: string; email: string; expires_at: Date; used_at: Date | null } | undefined>();
    if (!row || row.user_id !== userId || row.purpose !== purpose || row.used_at || new Date(row.expires_at).getTime() <= clock.now().getTime()) {
      throw invalidToken();
    }
    await trx('email_tokens').where({ token_hash: sha256Hex(token) }).update({ used_at: clock.now() });
    return { email: row.email };
  }

  function send(to: string, subject: string, text: string): void {
    mailer.send({ to, subject, text }).catch((err: unknown) => logger.error({ err }, 'email-address mail failed'));
  }

  function mailVerification(v: PendingVerification): void {
    const link = `${config.publicUrl}/verify-email?token=${encodeURIComponent(v.token)}`;
    send(
      v.email,
      'Confirm your email address for Numina',
      `Open this link within 24 hours to confirm that this address is yours:\n${link}\n\n` +
        `Until then Numina sends you no alert mails. If you did not create a Numina account, ignore this mail.\n`,
    );
  }

  return {
    /** Inside the registration's transaction: a verification link for the new account's address. */
    async issueVerification(trx: Knex.Transaction, userId: string, email: string): Promise<PendingVerification> {
      return { email, token: await issue(trx, userId, 'verify', email) };
    },

    /** After the registration committed: mails the link. */
    mailVerification,

    /**
     * Starts an email change: the current password (under the failure limit), then a confirmation
     * link to `newEmail` and a notice to the current address. Nothing changes until the link is
     * followed. `newEmail` equal to the current address sends a fresh verification link instead.
     */
    async requestChange(write: WriteContext, input: { newEmail: string; password: string }): Promise<void> {
      const checked = await verifyPassword(write, input.password, { path: 'body.password', failureAction: 'user.email_change_failed' });
      const newEmail = input.newEmail.toLowerCase();
      const out = await db.transaction(async (trx) => {
        const user = await lockUser(trx, write.userId);
        if (user.password_hash !== checked) throw wrongPassword('body.password');
        if (user.email.toLowerCase() === newEmail) {
          const token = await issue(trx, user.id, 'verify', user.email);
          await audit.recordWrite(trx, write, { action: 'user.email_verification_requested', entityType: 'user', entityId: user.id });
          return { kind: 'verify' as const, token, old: user.email };
        }
        const taken = await findByEmail(trx, newEmail);
        if (taken) throw new ConflictError('An account with this email already exists.', 'email_taken');
        const token = await issue(trx, user.id, 'change', newEmail);
        await audit.recordWrite(trx, write, {
          action: 'user.email_change_requested',
          entityType: 'user',
          entityId: user.id,
          before: { email: user.email },
          after: { newEmail },
        });
        return { kind: 'change' as const, token, old: user.email };
      });
      if (out.kind === 'verify') {
        mailVerification({ email: out.old, token: out.token });
        return;
      }
      const link = `${config.publicUrl}/confirm-email?token=${encodeURIComponent(out.token)}`;
      send(
        newEmail,
        'Confirm your new email address for Numina',
        `Someone (hopefully you) asked to use this address for a Numina account.\n\n` +
          `Open this link within 24 hours to confirm it:\n${link}\n\nIf it was not you, ignore this mail: nothing changes.\n`,
      );
      send(
        out.old,
        'Your Numina email address is about to change',
        `A change of your Numina account's address to ${masked(newEmail)} was requested at ${clock.now().toISOString()}.\n` +
          `It applies only once the link sent to the new address is followed.\n\n` +
          `If this was not you, change your password now (${config.publicUrl}/forgot-password): someone knows it.\n`,
      );
    },

    /** Applies an email change with the link's token (the caller's, single use, 24 h); the new address counts as verified. */
    async confirmChange(write: WriteContext, token: string): Promise<void> {
      try {
        await db.transaction(async (trx) => {
          const { email } = await claim(trx, write.userId, 'change', token);
          const user = await lockUser(trx, write.userId);
          const taken = await findByEmail(trx, email);
          if (taken && taken.id !== user.id) throw new ConflictError('An account with this email already exists.', 'email_taken');
          const now = clock.now();
          await trx('users').where({ id: user.id }).update({ email, email_verified_at: now, updated_at: now });
          // Links sent to the old address (verification, other changes) die with it.
          await trx('email_tokens').where({ user_id: user.id }).whereNull('used_at').update({ used_at: now });
          await audit.recordWrite(trx, write, {
            action: 'user.email_changed',
            entityType: 'user',
            entityId: user.id,
            before: { email: user.email, emailVerified: user.email_verified_at != null },
            after: { email, emailVerified: true },
          });
        });
      } catch (err) {
        // Another account took the address between the request and the confirmation.
        if (isUniqueViolation(err)) throw new ConflictError('An account with this email already exists.', 'email_taken');
        throw err;
      }
    },

    /** Marks the caller's address verified with the link's token; a link sent to an address no longer theirs is invalid. */
    async verify(write: WriteContext, token: string): Promise<void> {
      await db.transaction(async (trx) => {
        const { email } = await claim(trx, write.userId, 'verify', token);
        const user = await lockUser(trx, write.userId);
        if (user.email.toLowerCase() !== email.toLowerCase()) throw invalidToken();
        if (user.email_verified_at) return;
        const now = clock.now();
        await trx('users').where({ id: user.id }).update({ email_verified_at: now, updated_at: now });
        await audit.recordWrite(trx, write, { action: 'user.email_verified', entityType: 'user', entityId: user.id, after: { email: user.email } });
      });
    },
  };
}
