/** Ending logins: the rows go, the refresh tokens with them, and every instance is told at commit. */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { UserHooks } from '../context.js';

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
