import { randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Knex } from 'knex';
import type { Clock } from '../shared/clock.js';
import { insertColumnsStatement, preparedSql } from '../shared/db.js';
import type { WriteContext } from '../shared/write-context.js';
import { sha256Hex as sha256 } from '../shared/hash.js';
import { decodeCursor, isDigits, keysetPage, type KeysetPage } from '../shared/cursor.js';
import { AuditLog } from './audit.model.js';
import type { AuditLogsQuery } from './audit.schemas.js';

/** What a feature says about a change. `userId` is whose data it is (defaults to the actor). */
export interface AuditEntry {
  action: string;
  actorId?: string | null;
  userId?: string | null;
  entityType?: string | null;
  entityId?: string | null;
  before?: unknown;
  after?: unknown;
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
}

/** What a write says about itself; who and from where come from its WriteContext. */
export type WriteAuditEntry = Pick<AuditEntry, 'action' | 'entityType' | 'entityId' | 'before' | 'after'>;

export interface AuditView {
  id: string;
  at: string;
  actorId: string | null;
  userId: string | null;
  action: string;
  entityType: string | null;
  entityId: string | null;
  before: unknown;
  after: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  firstBad?: { id: string; seq: string; reason: string };
}

const GLOBAL_CHAIN = 'global';
/** Column types for `recordWrites`' array inserts. */
const AUDIT_COLUMNS = {
  id: 'uuid',
  chain: 'text',
  at: 'timestamptz',
  user_id: 'uuid',
  actor_id: 'uuid',
  action: 'text',
  entity_type: 'text',
  entity_id: 'text',
  before: 'jsonb',
  after: 'jsonb',
  ip: 'text',
  user_agent: 'text',
  request_id: 'text',
  prev_hash: 'text',
  pii_digest: 'text',
  hash: 'text',
};
const canon = (v: unknown) => canonicalize(v ?? null) ?? 'null';

function piiDigest(before: unknown, after: unknown, ip: string | null, userAgent: string | null): string {
  return sha256(canon({ before: before ?? null, after: after ?? null, ip, userAgent }));
}

function entryHash(row: {
  prev_hash: string | null;
  chain: string;
  id: string;
  at: Date;
  user_id: string | null;
  actor_id: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  request_id: string | null;
  pii_digest: string;
}): string {
  return sha256(
    canon({
      prev: row.prev_hash,
      chain: row.chain,
      id: row.id,
      at: row.at.toISOString(),
      userId: row.user_id,
      actorId: row.actor_id,
      action: row.action,
      entityType: row.entity_type,
      entityId: row.entity_id,
      requestId: row.request_id,
      pii: row.pii_digest,
    }),
  );
}

export function toAuditView(row: AuditLog): AuditView {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actorId: row.actor_id,
    userId: row.user_id,
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    before: row.before ?? null,
    after: row.after ?? null,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
  };
}

export interface AuditService {
  /**
   * Appends an entry inside the caller's transaction: it commits or rolls back with the change
   * it describes. The chain is locked per user until commit, so call it in READ COMMITTED
   * transactions (the default) where each statement sees the latest committed chain head.
   */
  record(trx: Knex.Transaction, entry: AuditEntry): Promise<void>;
  /** `record` for a write: actor, owner and request facts come from the write's context. */
  recordWrite(trx: Knex.Transaction, write: WriteContext, entry: WriteAuditEntry): Promise<void>;
  /**
   * `recordWrite` for many entries of one write at once (batch writers such as the recurring
   * sweep): chained in the given order, one lock, one head read, multi-row inserts.
   */
  recordWrites(trx: Knex.Transaction, write: WriteContext, entries: WriteAuditEntry[]): Promise<void>;
  /** Walks every chain; the first edited, reordered or removed row makes `ok` false. */
  verify(db: Knex): Promise<VerifyResult>;
  /** GDPR erase: clears the personal fields of a user's entries (the chain stays verifiable). */
  redactUser(trx: Knex.Transaction, userId: string): Promise<number>;
}

/** The facts of one entry as its row stores them, before the chain fields are added. */
type EntryFields = Pick<
  AuditLog,
  'user_id' | 'actor_id' | 'action' | 'entity_type' | 'entity_id' | 'before' | 'after' | 'ip' | 'user_agent' | 'request_id'
>;

function fieldsOf(entry: WriteAuditEntry, who: Pick<EntryFields, 'user_id' | 'actor_id' | 'ip' | 'user_agent' | 'request_id'>): EntryFields {
  return {
    ...who,
    action: entry.action,
    entity_type: entry.entityType ?? null,
    entity_id: entry.entityId ?? null,
    before: entry.before === undefined ? null : entry.before,
    after: entry.after === undefined ? null : entry.after,
  };
}

export function createAuditService({ clock }: { clock: Clock }): AuditService {
  /**
   * The one writer of the chain: locks `chain` until commit, reads its head (the newest anchor,
   * written with every entry in the same transaction) and appends `entries` in order, each hashed
   * over the previous one, with one anchor per entry. A multi-row INSERT takes seq values in row
   * order, so the chain order is the seq order.
   */
  async function append(trx: Knex.Transaction, chain: string, entries: EntryFields[]): Promise<void> {
    if (entries.length === 0) return;
    // Fixed texts, prepared once per connection: every audited write runs these three statements.
    await preparedSql(trx, 'SELECT pg_advisory_xact_lock(hashtext(?::text))', [`audit:${chain}`]);
    const [head] = await preparedSql<{ length: string; head_hash: string }>(trx, 'SELECT length, head_hash FROM audit_chain_anchors WHERE chain = ?::text ORDER BY length DESC LIMIT 1', [chain]);
    let prev = head?.head_hash ?? null;
    const length = BigInt(head?.length ?? '0');
    const at = clock.now();
    const rows = entries.map((fields) => {
      const row = { id: randomUUID(), chain, at, ...fields, prev_hash: prev, pii_digest: piiDigest(fields.before, fields.after, fields.ip, fields.user_agent), hash: '' };
      row.hash = entryHash(row);
      prev = row.hash;
      return { ...row, before: row.before === null ? null : JSON.stringify(row.before), after: row.after === null ? null : JSON.stringify(row.after) };
    });
    // The entries (one array parameter per column: rows keep their order, so seq follows the chain)
    // and one anchor per entry, in one statement: the anchors read the seq each entry was given.
    const logRows = insertColumnsStatement('audit_logs', AUDIT_COLUMNS, rows, ['id', 'seq']);
    await preparedSql(
      trx,
      `WITH l AS (${logRows.sql})
       INSERT INTO audit_chain_anchors (chain, length, head_seq, head_id, head_hash, at)
       SELECT ?::text, ?::bigint + v.ord, l.seq, l.id, v.hash, ?::timestamptz
         FROM unnest(?::uuid[], ?::text[]) WITH ORDINALITY AS v(id, hash, ord) JOIN l ON l.id = v.id
        ORDER BY v.ord`,
      [...logRows.bindings, chain, String(length), at, rows.map((r) => r.id), rows.map((r) => r.hash)],
    );
  }

  const service: AuditService = {
    recordWrite(trx, write, entry) {
      return service.recordWrites(trx, write, [entry]);
    },

    record(trx, entry) {
      const userId = entry.userId !== undefined ? entry.userId : (entry.actorId ?? null);
      const who = { user_id: userId, actor_id: entry.actorId ?? null, ip: entry.ip ?? null, user_agent: entry.userAgent ?? null, request_id: entry.requestId ?? null };
      return append(trx, userId ?? GLOBAL_CHAIN, [fieldsOf(entry, who)]);
    },

    recordWrites(trx, write, entries) {
      const who = { user_id: write.userId, actor_id: write.actorId, ip: write.audit.ip, user_agent: write.audit.userAgent, request_id: write.audit.requestId };
      return append(trx, write.userId, entries.map((entry) => fieldsOf(entry, who)));
    },

    async verify(db) {
      const heads = new Map<string, { hash: string; length: bigint; id: string; seq: string }>();
      let checked = 0;
      let lastSeq = '0';
      const batch = 2000;
      for (;;) {
        const rows: (AuditLog & { user_erased_at: Date | null })[] = await db('audit_logs as l')
          .leftJoin('users as u', 'u.id', 'l.user_id')
          .where('l.seq', '>', lastSeq)
          .orderBy('l.seq')
          .limit(batch)
          .select('l.*', 'u.erased_at as user_erased_at');
        for (const r of rows) {
          checked++;
          const bad = (reason: string): VerifyResult => ({ ok: false, checked, firstBad: { id: r.id, seq: String(r.seq), reason } });
          const head = heads.get(r.chain);
          if (r.prev_hash !== (head?.hash ?? null)) return bad('does not follow the previous entry of its chain (an entry was removed or reordered)');
          if (!r.redacted_at && piiDigest(r.before, r.after, r.ip, r.user_agent) !== r.pii_digest) return bad('content was changed');
          if (r.redacted_at && (r.before !== null || r.after !== null || r.ip !== null || r.user_agent !== null)) return bad('content was changed after redaction');
          if (r.redacted_at && !r.user_erased_at) return bad('redacted although its user was never erased');
          if (entryHash({ ...r, at: new Date(r.at) }) !== r.hash) return bad('content was changed');
          heads.set(r.chain, { hash: r.hash, length: (head?.length ?? 0n) + 1n, id: r.id, seq: String(r.seq) });
        }
        if (rows.length < batch) break;
        lastSeq = String(rows[rows.length - 1].seq);
      }
      // The entries agree with each other; the anchors say whether any were cut from a chain's end
      // (or a whole chain removed).
      const anchors: { chain: string; length: string; head_hash: string }[] = await db('audit_chain_anchors')
        .distinctOn('chain')
        .orderBy([{ column: 'chain' }, { column: 'length', order: 'desc' }])
        .select('chain', 'length', 'head_hash');
      for (const a of anchors) {
        const head = heads.get(a.chain);
        heads.delete(a.chain);
        const length = head?.length ?? 0n;
        const anchored = BigInt(a.length);
        if (length < anchored) {
          const firstMissing = await db('audit_chain_anchors')
            .where({ chain: a.chain, length: String(length + 1n) })
            .first<{ head_id: string; head_seq: string } | undefined>('head_id', 'head_seq');
          return {
            ok: false,
            checked,
            firstBad: {
              id: String(firstMissing?.head_id ?? a.chain),
              seq: String(firstMissing?.head_seq ?? '0'),
              reason: `the newest entries of the chain were removed (anchored length ${a.length}, found ${length})`,
            },
          };
        }
        if (length > anchored || head?.hash !== a.head_hash) {
          return { ok: false, checked, firstBad: { id: head!.id, seq: head!.seq, reason: 'the chain does not match its anchor (entries written behind the audit service)' } };
        }
      }
      // A chain with entries and no anchor at all: written behind the audit service, or its anchors removed.
      const orphan = heads.values().next().value;
      if (orphan) return { ok: false, checked, firstBad: { id: orphan.id, seq: orphan.seq, reason: 'the chain has no anchor (entries written behind the audit service)' } };
      return { ok: true, checked };
    },

    async redactUser(trx, userId) {
      return trx('audit_logs')
        .where({ chain: userId })
        .whereNull('redacted_at')
        .update({ before: null, after: null, ip: null, user_agent: null, redacted_at: clock.now() });
    },
  };
  return service;
}

/** A page of audit entries, newest first; `userId` (when set) keeps one user's entries. */
export async function listAuditEntries(db: Knex, query: AuditLogsQuery): Promise<KeysetPage<AuditView>> {
  const q = AuditLog.query(db).orderBy('seq', 'desc').limit(query.limit + 1);
  if (query.userId) q.where('user_id', query.userId);
  if (query.from) q.where('at', '>=', new Date(query.from));
  if (query.to) q.where('at', '<', new Date(query.to));
  if (query.action) q.where('action', query.action);
  if (query.entityType) q.where('entity_type', query.entityType);
  if (query.cursor) {
    const [seq] = decodeCursor(query.cursor, [isDigits]);
    q.where('seq', '<', seq);
  }
  return keysetPage(await q, query.limit, toAuditView, (r) => [String(r.seq)]);
}
