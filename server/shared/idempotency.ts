import { sha256Hex } from './hash.js';
import canonicalize from 'canonicalize';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Clock } from './clock.js';
import { sqlRows } from './db.js';
import { ConflictError, ValidationError } from './errors.js';

/**
 * Idempotency-Key support for money-moving POSTs. A route declares `idempotent: true` (the registry
 * validates and documents the header); its service calls `idempotent()` inside its own transaction.
 *
 * Invariant: for one (user, scope, key) at most one change ever commits while the key is live, and
 * every later request with the same key and body receives that change's response.
 *
 * How: the key row is inserted first thing in the same database transaction as the change. The
 * primary key serialises concurrent requests — the second INSERT waits for the first transaction
 * and then, under READ COMMITTED, sees its committed row and replays the stored response. If the
 * change fails (4xx), the transaction rolls back together with the key row, so a corrected retry
 * with the same key is possible. Keys live at least 24 hours; an expired key is taken over.
 */

const KEY_RE = /^[\x21-\x7e]{1,255}$/;
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Documents the header on a route (`headers` of the route spec). */
export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .max(255)
    .optional()
    .meta({ description: 'Makes the request safe to retry: the same key with the same body returns the first response and creates nothing new; another body → 409. Kept ≥ 24 h.' }),
});

export interface IdempotentResult<T> {
  body: T;
  /** True when this is the stored response of an earlier request. */
  replayed: boolean;
}

/** Reads and checks the Idempotency-Key header value (undefined when absent). */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const v = Array.isArray(header) ? header[0] : header;
  if (!KEY_RE.test(v)) {
    throw new ValidationError('The request is not valid.', [{ path: 'headers.idempotency-key', message: 'must be 1–255 visible ASCII characters' }]);
  }
  return v;
}

function requestHash(request: unknown): string {
  return sha256Hex(canonicalize(request ?? null) ?? 'null');
}

export interface IdempotencyOptions {
  userId: string;
  /** The endpoint, e.g. "POST /transactions": a key is only ever compared within its scope. */
  scope: string;
  key: string | undefined;
  /** What the key promises to repeat: the validated body (and path params if any). */
  request: unknown;
  ttlMs?: number;
}

/**
 * Runs `change` inside the caller's transaction `trx`, guarded by the Idempotency-Key when there is
 * one: the key row is claimed first, so a concurrent request with the same key waits on it, then
 * replays the committed response (or gets 409 for another body). The key row commits or rolls back
 * with the change.
 */
export async function idempotent<T>(trx: Knex.Transaction, clock: Clock, opts: IdempotencyOptions, change: () => Promise<T>): Promise<IdempotentResult<T>> {
  if (opts.key === undefined) return { body: await change(), replayed: false };
  const hash = requestHash(opts.request);
  const key = opts.key;
  const now = clock.now();
  const expiresAt = new Date(now.getTime() + Math.max(opts.ttlMs ?? IDEMPOTENCY_TTL_MS, IDEMPOTENCY_TTL_MS));
  const claimed = await sqlRows<{ key: string }>(
    trx,
    `INSERT INTO idempotency_keys (user_id, scope, key, request_hash, created_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (user_id, scope, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, response = NULL,
           created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
       WHERE idempotency_keys.expires_at <= EXCLUDED.created_at
     RETURNING key`,
    [opts.userId, opts.scope, key, hash, now, expiresAt],
  );
  if (claimed.length === 0) {
    // A live key: someone committed a response with it (we waited for them if they were in flight).
    const row = await trx('idempotency_keys')
      .where({ user_id: opts.userId, scope: opts.scope, key })
      .first<{ request_hash: string; response: unknown } | undefined>('request_hash', 'response');
    if (!row || row.response === null) throw new ConflictError('A request with this Idempotency-Key is in progress; retry.', 'idempotency_in_progress');
    if (row.request_hash !== hash) {
      throw new ConflictError('This Idempotency-Key was already used with a different request.', 'idempotency_key_reused');
    }
    return { body: row.response as T, replayed: true };
  }
  const body = await change();
  // jsonb 'null' (not SQL NULL) for an empty body, so a completed key is never taken for one in flight.
  await trx('idempotency_keys').where({ user_id: opts.userId, scope: opts.scope, key }).update({ response: JSON.stringify(body ?? null) });
  return { body, replayed: false };
}

/** Deletes keys past their expiry (housekeeping; correctness never depends on it). */
export async function purgeExpiredIdempotencyKeys(db: Knex, clock: Clock): Promise<number> {
  return db('idempotency_keys').where('expires_at', '<', clock.now()).del();
}
