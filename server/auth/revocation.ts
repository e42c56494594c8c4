/** Ending logins: the rows go, the refresh tokens with them, and every instance is told after commit. */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { UserHooks } from '../context.js';

/**
 * Deletes logins of a user (all, `only` some, or all `except` one) with their refresh tokens.
 * Returns the revoked session ids; the caller runs `afterRevoke` after commit (realtime ends those
 * logins' sockets here and signals every other instance).
 */
export async function revokeSessions(trx: Knex.Transaction, userId: string, opts: { only?: string[]; except?: string } = {}): Promise<string[]> {
  const q = trx('auth_sessions').where({ user_id: userId });
  if (opts.only) q.whereIn('id', opts.only.length ? opts.only : ['00000000-0000-0000-0000-000000000000']);
  if (opts.except) q.whereNot('id', opts.except);
  const rows: { id: string }[] = await q.delete().returning('id');
  return rows.map((r) => r.id);
}

/** Runs the `sessionsRevoked` hooks (realtime drops those sockets on this instance) after commit. */
export function afterRevoke(hooks: UserHooks, logger: Logger): (ids: string[]) => void {
  return (ids) => {
    if (!ids.length) return;
    for (const fn of hooks.sessionsRevoked) {
      try {
        fn(ids);
      } catch (err) {
        logger.error({ err }, 'sessionsRevoked hook failed');
      }
    }
  };
}
