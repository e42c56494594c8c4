import type { Knex } from 'knex';
import type { Clock } from '../shared/clock.js';

/**
 * Housekeeping for auth's expiring rows, run on the job queue (see registerAuth). Correctness never
 * depends on them — every read already refuses an expired row — they only keep the tables small.
 * Time comes from the injected clock so tests can move past an expiry.
 */

/** Logins past their expiry (their refresh tokens go with them by cascade). */
export async function purgeExpiredSessions(db: Knex, clock: Clock): Promise<number> {
  return db('auth_sessions').where('expires_at', '<', clock.now()).del();
}

/**
 * Refresh tokens past their expiry, spent or not. A spent token is kept until then on purpose:
 * presenting it again is how a copied token is detected and its login revoked.
 */
export async function purgeExpiredRefreshTokens(db: Knex, clock: Clock): Promise<number> {
  return db('refresh_tokens').where('expires_at', '<', clock.now()).del();
}

/** Password-reset tokens past their expiry (used ones included: they expire within an hour anyway). */
export async function purgeExpiredResetTokens(db: Knex, clock: Clock): Promise<number> {
  return db('password_reset_tokens').where('expires_at', '<', clock.now()).del();
}

/** Email verification and change links past their expiry (24 h), used or not. */
export async function purgeExpiredEmailTokens(db: Knex, clock: Clock): Promise<number> {
  return db('email_tokens').where('expires_at', '<', clock.now()).del();
}
