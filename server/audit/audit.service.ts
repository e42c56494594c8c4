import { randomUUID } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Knex } from 'knex';
import type { Clock } from '../shared/clock.js';
import { insertColumns } from '../shared/db.js';
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
const ANCHOR_COLUMNS = { chain: 'text', length: 'bigint', head_seq: 'bigint', head_id: 'uuid', head_hash: 'text', at: 'timestamptz' };
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
  record(trx: Knex.Transaction, entry: AuditEntry): Promise<AuditView>;
  /** `record` for a write: actor, owner and request facts come from the write's context. */
  recordWrite(trx: Knex.Transaction, write: WriteContext, entry: WriteAuditEntry): Promise<AuditView>;
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

export function createAuditService({ clock }: { clock: Clock }): AuditService {
  const service: AuditService = {
    recordWrite(trx, write, entry) {
      return service.record(trx, { ...entry, actorId: write.actorId, userId: write.userId, ...write.audit });
    },

    async record(trx, entry) {
      const userId = entry.userId !== undefined ? entry.userId : (entry.actorId ?? null);
      const chain = userId ?? GLOBAL_CHAIN;
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`audit:${chain}`]);
      // The chain's newest anchor is its head: written with every entry, in the same transaction.
      const head = await trx('audit_chain_anchors')
        .where({ chain })
        .orderBy('length', 'desc')
        .first<{ length: string; head_hash: string } | undefined>('length', 'head_hash');
      const at = clock.now();
      const row = {
        id: randomUUID(),
        chain,
        at,
        user_id: userId,
        actor_id: entry.actorId ?? null,
        action: entry.action,
        entity_type: entry.entityType ?? null,
        entity_id: entry.entityId ?? null,
        before: entry.before === undefined ? null : entry.before,
        after: entry.after === undefined ? null : entry.after,
        ip: entry.ip ?? null,
        user_agent: entry.userAgent ?? null,
        request_id: entry.requestId ?? null,
        prev_hash: head?.head_hash ?? null,
        pii_digest: '',
        hash: '',
      };
      row.pii_digest = piiDigest(row.before, row.after, row.ip, row.user_agent);
      row.hash = entryHash(row);
      const inserted = await AuditLog.query(trx).insert({
        ...row,
        before: row.before === null ? null : (JSON.stringify(row.before) as unknown),
        after: row.after === null ? null : (JSON.stringify(row.after) as unknown),
      } as Partial<AuditLog>).returning('*');
      await trx('audit_chain_anchors').insert({
        chain,
        length: String(BigInt(head?.length ?? '0') + 1n),
        head_seq: inserted.seq,
        head_id: row.id,
        head_hash: row.hash,
        at,
      });
      return toAuditView(inserted);
    },

    async recordWrites(trx, write, entries) {
      if (entries.length === 0) return;
      const chain = write.userId;
      await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`audit:${chain}`]);
      // The chain's newest anchor is its head, as in `record`: every entry gets its anchor.
      const head = await trx('audit_chain_anchors').where({ chain }).orderBy('length', 'desc').first<{ length: string; head_hash: string } | undefined>('length', 'head_hash');
      let prev = head?.head_hash ?? null;
      let length = BigInt(head?.length ?? '0');
      const at = clock.now();
      const rows = entries.map((entry) => {
        const row = {
          id: randomUUID(),
          chain,
          at,
          user_id: write.userId,
          actor_id: write.actorId,
          action: entry.action,
          entity_type: entry.entityType ?? null,
          entity_id: entry.entityId ?? null,
          before: entry.before === undefined ? null : entry.before,
          after: entry.after === undefined ? null : entry.after,
          ip: write.audit.ip,
          user_agent: write.audit.userAgent,
          request_id: write.audit.requestId,
          prev_hash: prev,
          pii_digest: '',
          hash: '',
        };
        row.pii_digest = piiDigest(row.before, row.after, row.ip, row.user_agent);
        row.hash = entryHash(row);
        prev = row.hash;
        return { ...row, before: row.before === null ? null : JSON.stringify(row.before), after: row.after === null ? null : JSON.stringify(row.after) };
      });
      // The rows are inserted in order, so they take seq values in row order: the chain order is the seq order.
      const inserted = await insertColumns<{ id: string; seq: string }>(trx, 'audit_logs', AUDIT_COLUMNS, rows, ['id', 'seq']);
      const seqOf = new Map(inserted.map((r) => [r.id, r.seq]));
      await insertColumns(
        trx,
        'audit_chain_anchors',
        ANCHOR_COLUMNS,
        rows.map((r) => ({ chain, length: String((length += 1n)), head_seq: seqOf.get(r.id), head_id: r.id, head_hash: r.hash, at })),
      );
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
