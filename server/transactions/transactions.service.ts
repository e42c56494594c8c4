import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { lockAccounts, adjustBalance, type Account } from '../accounts/index.js';
import type { AuditService } from '../audit/index.js';
import { categoryKindForWrite, lockCategory } from '../categories/index.js';
import type { Clock } from '../shared/clock.js';
import { keysetPage, type KeysetPage } from '../shared/cursor.js';
import { insertColumns, preparedSql, sqlRows, updatedRow, type Db } from '../shared/db.js';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.js';
import { idempotent, type IdempotentResult } from '../shared/idempotency.js';
import { Decimal, formatAmount, MoneyError, parsePositiveAmount } from '../shared/money.js';
import type { AnyEvent, Outbox } from '../shared/outbox.js';
import type { WriteContext } from '../shared/write-context.js';
import { moveDailyTotals } from './daily-totals.js';
import { Entry, Transaction, TransactionVersion, type TransactionRow, type TransactionType, type VersionAction } from './transactions.model.js';
import { getTransactionRow, listTransactionRows } from './transactions.reads.js';
import type { ListTransactionsQuery, TransactionInput, TransactionView } from './transactions.schemas.js';

export interface TransactionServiceDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  outbox: Outbox;
  /** Features that keep state derived from the ledger (budgets' running totals, goals' progress). */
  onPosted?: LedgerListener[];
}

/** Column types of the ledger's rows, for the series' array inserts. */
const TRANSACTION_COLUMNS = {
  id: 'uuid',
  user_id: 'uuid',
  type: 'text',
  account_id: 'uuid',
  currency: 'text',
  amount: 'numeric',
  to_account_id: 'uuid',
  to_currency: 'text',
  to_amount: 'numeric',
  date: 'date',
  category_id: 'uuid',
  notes: 'text',
  recurring_id: 'uuid',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
};
const ENTRY_COLUMNS = { transaction_id: 'uuid', user_id: 'uuid', account_id: 'uuid', currency: 'text', amount: 'numeric' };
/** Named columns for the prepared reads (a prepared `SELECT *` fails once a migration adds a column). */
const TRANSACTION_SELECT = Object.keys(TRANSACTION_COLUMNS).join(', ');
const ENTRY_SELECT = ['id', ...Object.keys(ENTRY_COLUMNS)].join(', ');
const VERSION_COLUMNS = { transaction_id: 'uuid', user_id: 'uuid', version: 'int', action: 'text', actor_id: 'uuid', at: 'timestamptz', before: 'jsonb', after: 'jsonb' };

/** One template and the dates to post it on (a recurring rule's due occurrences). */
export interface LedgerSeries {
  template: Omit<TransactionInput, 'date'>;
  /** In date order. */
  dates: readonly string[];
  recurringId?: string | null;
}

/** One side (before or after) of a ledger write, as listeners see it. */
export interface LedgerSide {
  type: TransactionType;
  /** Calendar date in the user's time zone. */
  date: string;
  categoryId: string | null;
  accountId: string;
  currency: string;
  /** The header amount (positive; `type` gives the direction). */
  amount: Decimal;
  postings: readonly LedgerPosting[];
}

/** A committed-together ledger write: old and new sides (null on create / delete) and the balances it moved. */
export interface LedgerChange {
  userId: string;
  transactionId: string;
  action: 'create' | 'update' | 'delete';
  before: LedgerSide | null;
  after: LedgerSide | null;
  balances: readonly BalanceChange[];
}

/** An event a listener asks the ledger to publish after its own (same transaction, same seq stream). */
/** An event a listener asks the ledger to publish with the write's own (typed by its event type). */
export type LedgerEvent = AnyEvent;

/**
 * Called inside the ledger write's transaction, after the accounts are locked and the balances
 * moved, before the audit entry and the events, with every change of the write: one for a user's
 * create / update / delete, one per transaction for a series (the recurring sweep's batch, whose
 * changes all carry the batch's final balances). A listener may lock only its own rows (in a fixed
 * order) and must not scan the ledger; what it throws rolls the write back.
 */
export type LedgerListener = (trx: Knex.Transaction, changes: readonly LedgerChange[]) => Promise<LedgerEvent[]>;

export function toTransactionView(t: TransactionRow): TransactionView {
  return {
    id: t.id,
    accountId: t.account_id,
    type: t.type,
    amount: formatAmount(t.amount, t.currency),
    currency: t.currency,
    date: t.date,
    categoryId: t.category_id,
    notes: t.notes,
    toAccountId: t.to_account_id,
    toAmount: t.to_amount === null || t.to_currency === null ? null : formatAmount(t.to_amount, t.to_currency),
    toCurrency: t.to_currency,
    recurringId: t.recurring_id,
    createdAt: new Date(t.created_at).toISOString(),
    updatedAt: new Date(t.updated_at).toISOString(),
  };
}

function money(value: string, currency: string, path: string): Decimal {
  try {
    return parsePositiveAmount(value, currency);
  } catch (e) {
    if (e instanceof MoneyError) throw new ValidationError('The request is not valid.', [{ path, message: e.message }]);
    throw e;
  }
}

/** One entry of a transaction: a signed amount on one account, in its currency. */
export interface LedgerPosting {
  accountId: string;
  currency: string;
  amount: Decimal;
}
type Posting = LedgerPosting;

interface Resolved {
  header: Pick<Transaction, 'type' | 'account_id' | 'currency' | 'amount' | 'to_account_id' | 'to_currency' | 'to_amount' | 'date' | 'category_id' | 'notes'>;
  postings: Posting[];
}

/**
 * Checks the input against the locked accounts and the category and turns it into a header and
 * its postings. 404 for accounts/categories that are not the user's; 409 for archived accounts;
 * 400 for precision, a missing/mismatched toAmount and a category of the wrong kind.
 */
async function resolve(trx: Knex.Transaction, userId: string, input: TransactionInput, accounts: Map<string, Account>): Promise<Resolved> {
  const src = accounts.get(input.accountId);
  if (!src) throw new NotFoundError('Account not found.');
  const dst = input.type === 'transfer' && input.toAccountId ? accounts.get(input.toAccountId) : undefined;
  if (input.type === 'transfer' && !dst) throw new NotFoundError('Receiving account not found.');
  for (const a of [src, dst]) {
    if (a?.archived) throw new ConflictError(`Account "${a.name}" is archived; it takes no new transactions.`, 'account_archived');
  }
  const amount = money(input.amount, src.currency, 'body.amount');
  let toAmount: Decimal | null = null;
  if (dst) {
    if (dst.currency === src.currency) {
      if (input.toAmount != null && !money(input.toAmount, dst.currency, 'body.toAmount').eq(amount)) {
        throw new ValidationError('The request is not valid.', [{ path: 'body.toAmount', message: 'must equal amount when both accounts have the same currency' }]);
      }
      toAmount = amount;
    } else {
      if (input.toAmount == null) {
        throw new ValidationError('The request is not valid.', [{ path: 'body.toAmount', message: `is required: the accounts' currencies differ (${src.currency} → ${dst.currency})` }]);
      }
      toAmount = money(input.toAmount, dst.currency, 'body.toAmount');
    }
  }
  if (input.categoryId) {
    const kind = await categoryKindForWrite(trx, userId, input.categoryId);
    if (!kind) throw new NotFoundError('Category not found.');
    if (kind !== input.type) {
      throw new ValidationError('The request is not valid.', [{ path: 'body.categoryId', message: `is an ${kind} category; a ${input.type} needs an ${input.type} category` }]);
    }
  }
  const postings: Posting[] =
    input.type === 'income'
      ? [{ accountId: src.id, currency: src.currency, amount }]
      : input.type === 'expense'
        ? [{ accountId: src.id, currency: src.currency, amount: amount.neg() }]
        : [
            { accountId: src.id, currency: src.currency, amount: amount.neg() },
            { accountId: dst!.id, currency: dst!.currency, amount: toAmount! },
          ];
  return {
    header: {
      type: input.type,
      account_id: src.id,
      currency: src.currency,
      amount: amount.toFixed(),
      to_account_id: dst?.id ?? null,
      to_currency: dst?.currency ?? null,
      to_amount: toAmount?.toFixed() ?? null,
      date: input.date,
      category_id: input.categoryId ?? null,
      notes: input.notes ?? null,
    },
    postings,
  };
}

export interface BalanceChange {
  accountId: string;
  balance: string;
  currency: string;
}

/** Per-account net change of replacing `old` postings by `next`. Accounts with no change are left out. */
function deltas(old: Posting[], next: Posting[]): Map<string, { currency: string; delta: Decimal }> {
  const out = new Map<string, { currency: string; delta: Decimal }>();
  const add = (p: Posting, sign: 1 | -1) => {
    const cur = out.get(p.accountId) ?? { currency: p.currency, delta: new Decimal(0) };
    cur.delta = cur.delta.plus(sign === 1 ? p.amount : p.amount.neg());
    out.set(p.accountId, cur);
  };
  old.forEach((p) => add(p, -1));
  next.forEach((p) => add(p, 1));
  for (const [k, v] of out) if (v.delta.isZero()) out.delete(k);
  return out;
}

const postingsOf = (entries: Entry[]): Posting[] => entries.map((e) => ({ accountId: e.account_id, currency: e.currency, amount: new Decimal(e.amount) }));

/**
 * The expenses filed under one of the user's categories, each row locked FOR SHARE (so an update or
 * delete in flight finishes first, and none starts until the caller commits). For a feature that
 * builds running totals from the ledger once (a new budget); it follows the category delete's
 * order: these rows first, then the category row.
 */
export async function lockCategoryExpenses(trx: Knex.Transaction, userId: string, categoryId: string): Promise<{ date: string; currency: string; amount: string }[]> {
  return trx('transactions').where({ user_id: userId, category_id: categoryId, type: 'expense' }).orderBy('id').forShare().select('date', 'currency', 'amount');
}

/**
 * Net change per account among `accountIds` from the transactions dated in [from, to] (the sum of
 * their entries; accounts without any are absent). For goals' pace over the last 90 days.
 */
export async function netChangeByAccount(q: Knex | Knex.Transaction, userId: string, accountIds: readonly string[], from: string, to: string): Promise<Map<string, string>> {
  if (accountIds.length === 0) return new Map();
  const rows = await sqlRows<{ account_id: string; net: string }>(
    q,
    `SELECT e.account_id, sum(e.amount)::text AS net FROM entries e JOIN transactions t ON t.id = e.transaction_id
      WHERE e.user_id = ? AND e.account_id = ANY(?::uuid[]) AND t.date BETWEEN ?::date AND ?::date GROUP BY e.account_id`,
    [userId, [...accountIds], from, to],
  );
  return new Map(rows.map((r) => [r.account_id, r.net]));
}

/**
 * The ledger's write path. Every change to a transaction happens here, in the caller's database
 * transaction and in this order (the lock order every writer follows, so writers never deadlock):
 * transaction row → accounts in id order → category → daily totals (key order) → listeners' rows
 * (budgets in id order, then goals in id order) → audit chain → event counter.
 * It writes header + entries, moves the stored balances by exactly the entries' difference and the
 * daily totals the reports read by exactly the transaction's (daily-totals.ts), and records the
 * version, the audit entry and the events — all or nothing.
 */
export function createTransactionService({ db, clock, audit, outbox, onPosted = [] }: TransactionServiceDeps) {
  const sideOf = (h: Resolved['header'], postings: readonly Posting[]): LedgerSide => ({
    type: h.type,
    date: h.date,
    categoryId: h.category_id,
    accountId: h.account_id,
    currency: h.currency,
    amount: new Decimal(h.amount),
    postings,
  });

  async function notify(trx: Knex.Transaction, changes: LedgerChange | readonly LedgerChange[]): Promise<LedgerEvent[]> {
    const batch = Array.isArray(changes) ? (changes as readonly LedgerChange[]) : [changes as LedgerChange];
    const events: LedgerEvent[] = [];
    if (batch.length === 0) return events;
    for (const listener of onPosted) events.push(...(await listener(trx, batch)));
    return events;
  }

  async function applyBalances(trx: Knex.Transaction, changes: Map<string, { currency: string; delta: Decimal }>): Promise<BalanceChange[]> {
    const out: BalanceChange[] = [];
    for (const id of [...changes.keys()].sort()) {
      const { currency, delta } = changes.get(id)!;
      const balance = await adjustBalance(trx, id, delta);
      out.push({ accountId: id, balance: formatAmount(balance, currency), currency });
    }
    return out;
  }

  // The write path's fixed statements run prepared (preparedSql, insertColumns): parsed and planned once per connection.
  async function insertPostings(trx: Knex.Transaction, userId: string, transactionId: string, postings: Posting[]): Promise<void> {
    await insertColumns(
      trx,
      'entries',
      ENTRY_COLUMNS,
      postings.map((p) => ({ transaction_id: transactionId, user_id: userId, account_id: p.accountId, currency: p.currency, amount: p.amount.toFixed() })),
    );
  }

  async function entriesOf(trx: Knex.Transaction, transactionId: string): Promise<Entry[]> {
    const rows = await preparedSql<Record<string, unknown>>(trx, `SELECT ${ENTRY_SELECT} FROM entries WHERE transaction_id = ?::uuid ORDER BY account_id`, [transactionId]);
    return rows.map((r) => Entry.fromDatabaseJson(r));
  }

  async function record(
    trx: Knex.Transaction,
    wc: WriteContext,
    id: string,
    action: VersionAction,
    before: TransactionView | null,
    after: TransactionView | null,
    balances: BalanceChange[],
    extra: LedgerEvent[] = [],
  ): Promise<void> {
    // The next version number, computed in the insert itself (a create is version 1): one round
    // trip. The transaction's row lock, held by every writer of it, keeps the numbers in order.
    await preparedSql(
      trx,
      `INSERT INTO transaction_versions (transaction_id, user_id, version, action, actor_id, at, before, after)
       SELECT ?::uuid, ?::uuid, coalesce(max(version), 0) + 1, ?, ?::uuid, ?::timestamptz, ?::jsonb, ?::jsonb FROM transaction_versions WHERE transaction_id = ?::uuid`,
      [id, wc.userId, action, wc.actorId, clock.now(), before ? JSON.stringify(before) : null, after ? JSON.stringify(after) : null, id],
    );
    await audit.recordWrite(trx, wc, { action: `transaction.${action}`, entityType: 'transaction', entityId: id, before, after });
    const type = action === 'create' ? 'transaction.created' : action === 'update' ? 'transaction.updated' : 'transaction.deleted';
    const transaction = after ?? before;
    if (!transaction) throw new Error('a ledger change has a before or an after');
    await outbox.publishMany(trx, wc.userId, [
      { type, data: { transaction } },
      ...balances.map((b) => ({ type: 'balance.updated' as const, data: b })),
      ...extra,
    ]);
  }

  /**
   * Creates a transaction inside `trx`, for features that post on the user's behalf (recurring
   * rules pass `recurringId`); the composition root hands the ledger service to them.
   */
  async function createInTrx(trx: Knex.Transaction, wc: WriteContext, input: TransactionInput, opts: { recurringId?: string | null } = {}): Promise<TransactionView> {
    const accounts = await lockAccounts(trx, wc.userId, [input.accountId, ...(input.toAccountId ? [input.toAccountId] : [])]);
    const { header, postings } = await resolve(trx, wc.userId, input, accounts);
    const now = clock.now();
    const row = await Transaction.query(trx)
      .insert({ ...header, user_id: wc.userId, recurring_id: opts.recurringId ?? null, created_at: now, updated_at: now } as Partial<Transaction>)
      .returning('*');
    await insertPostings(trx, wc.userId, row.id, postings);
    const balances = await applyBalances(trx, deltas([], postings));
    const after = sideOf(header, postings);
    await moveDailyTotals(trx, wc.userId, [{ side: after, sign: 1 }]);
    const extra = await notify(trx, { userId: wc.userId, transactionId: row.id, action: 'create', before: null, after, balances });
    const view = toTransactionView(row);
    await record(trx, wc, row.id, 'create', null, view, balances, extra);
    return view;
  }

  /**
   * Creates one transaction per date of each series (one template, its dates) inside `trx` — the
   * recurring sweep's batch, several rules of one user at once: the same checks as `createInTrx`,
   * once per series; accounts locked once (id order); multi-row inserts across all series; a
   * version, an audit entry and a `transaction.created` event per transaction; balances moved
   * once, with one `balance.updated` per account for the whole batch. Returns each series' views
   * in date order (ids are made here, so nothing is read back).
   */
  async function createSeriesInTrx(trx: Knex.Transaction, wc: WriteContext, series: readonly LedgerSeries[]): Promise<TransactionView[][]> {
    const batch = series.filter((s) => s.dates.length > 0);
    if (batch.length === 0) return series.map(() => []);
    const accounts = await lockAccounts(
      trx,
      wc.userId,
      batch.flatMap((s) => [s.template.accountId, ...(s.template.toAccountId ? [s.template.toAccountId] : [])]),
    );
    const now = clock.now();
    const rows: Transaction[][] = [];
    const sides: { transactionId: string; side: LedgerSide }[] = [];
    const entries: Record<string, string>[] = [];
    const total: Posting[] = [];
    for (const s of series) {
      if (s.dates.length === 0) {
        rows.push([]);
        continue;
      }
      const { header, postings } = await resolve(trx, wc.userId, { ...s.template, date: s.dates[0] }, accounts);
      const made = s.dates.map((date) => ({ ...header, id: randomUUID(), date, user_id: wc.userId, recurring_id: s.recurringId ?? null, created_at: now, updated_at: now }) as Transaction);
      rows.push(made);
      for (const r of made) sides.push({ transactionId: r.id, side: sideOf({ ...header, date: r.date }, postings) });
      for (const r of made) {
        for (const p of postings) entries.push({ transaction_id: r.id, user_id: wc.userId, account_id: p.accountId, currency: p.currency, amount: p.amount.toFixed() });
      }
      total.push(...postings.map((p) => ({ ...p, amount: p.amount.times(made.length) })));
    }
    await insertColumns(trx, 'transactions', TRANSACTION_COLUMNS, rows.flat());
    await insertColumns(trx, 'entries', ENTRY_COLUMNS, entries);
    const balances = await applyBalances(trx, deltas([], total));
    await moveDailyTotals(
      trx,
      wc.userId,
      sides.map(({ side }) => ({ side, sign: 1 as const })),
    );
    // Budgets' totals and alerts, goals' progress: the listeners see every transaction of the batch at once.
    const extra = await notify(
      trx,
      sides.map(({ transactionId, side }) => ({ userId: wc.userId, transactionId, action: 'create' as const, before: null, after: side, balances })),
    );
    const perSeries = rows.map((r) => r.map(toTransactionView));
    const views = perSeries.flat();
    const versions = views.map((v) => ({
      transaction_id: v.id,
      user_id: wc.userId,
      version: 1,
      action: 'create',
      actor_id: wc.actorId,
      at: now,
      before: null,
      after: JSON.stringify(v),
    }));
    await insertColumns(trx, 'transaction_versions', VERSION_COLUMNS, versions);
    await audit.recordWrites(
      trx,
      wc,
      views.map((v) => ({ action: 'transaction.create', entityType: 'transaction', entityId: v.id, before: null, after: v })),
    );
    await outbox.publishMany(trx, wc.userId, [
      ...views.map((v) => ({ type: 'transaction.created' as const, data: { transaction: v } })),
      ...balances.map((b) => ({ type: 'balance.updated' as const, data: b })),
      ...extra,
    ]);
    return perSeries;
  }

  async function lockOwn(trx: Knex.Transaction, userId: string, id: string): Promise<Transaction> {
    const [found] = await preparedSql<Record<string, unknown>>(trx, `SELECT ${TRANSACTION_SELECT} FROM transactions WHERE id = ?::uuid AND user_id = ?::uuid FOR UPDATE`, [id, userId]);
    const row = found ? Transaction.fromDatabaseJson(found) : undefined;
    if (!row) throw new NotFoundError('Transaction not found.');
    return row;
  }

  /**
   * Files a category's transactions as uncategorised (before the category is deleted), with a
   * version and an event for each. Locks the transaction rows first, then the category FOR UPDATE,
   * then the daily totals — the same order as PUT (transaction row → category → daily totals) and
   * create (category KEY SHARE → daily totals) — so it cannot deadlock with either. Returns their ids.
   */
  async function uncategoriseInTrx(trx: Knex.Transaction, wc: WriteContext, categoryId: string): Promise<string[]> {
    const rows = await Transaction.query(trx).where({ user_id: wc.userId, category_id: categoryId }).orderBy('id').forUpdate();
    if (rows.length === 0) return [];
    await lockCategory(trx, wc.userId, categoryId);
    const now = clock.now();
    const updated = await Transaction.query(trx)
      .patch({ category_id: null, updated_at: now } as Partial<Transaction>)
      .whereIn('id', rows.map((r) => r.id))
      .where('user_id', wc.userId)
      .returning('*');
    const byId = new Map(updated.map((u) => [u.id, u]));
    // The entries do not move: only the category totals do (from the category to uncategorised).
    await moveDailyTotals(
      trx,
      wc.userId,
      rows.flatMap((r) => [
        { side: sideOf(r, []), sign: -1 as const },
        { side: sideOf({ ...r, category_id: null }, []), sign: 1 as const },
      ]),
    );
    const versions = await sqlRows<{ transaction_id: string; v: number }>(
      trx,
      `SELECT transaction_id, max(version) AS v FROM transaction_versions WHERE transaction_id = ANY(?::uuid[]) GROUP BY transaction_id`,
      [rows.map((r) => r.id)],
    );
    const lastVersion = new Map<string, number>(versions.map((r) => [r.transaction_id, Number(r.v)]));
    const pairs = rows.map((r) => ({ before: toTransactionView(r), after: toTransactionView(byId.get(r.id)!) }));
    await trx('transaction_versions').insert(
      pairs.map((p) => ({
        transaction_id: p.after.id,
        user_id: wc.userId,
        version: (lastVersion.get(p.after.id) ?? 0) + 1,
        action: 'update',
        actor_id: wc.actorId,
        at: now,
        before: JSON.stringify(p.before),
        after: JSON.stringify(p.after),
      })),
    );
    for (const p of pairs) await outbox.publish(trx, wc.userId, 'transaction.updated', { transaction: p.after });
    return pairs.map((p) => p.after.id);
  }

  /** Whether any transaction posts to the account (the accounts feature refuses to delete it then). */
  async function accountHasTransactions(trx: Knex.Transaction, accountId: string): Promise<boolean> {
    return (await trx('entries').where({ account_id: accountId }).first(trx.raw('1'))) !== undefined;
  }

  return {
    createInTrx,
    createSeriesInTrx,
    uncategoriseInTrx,
    accountHasTransactions,

    /** POST /transactions, guarded by the Idempotency-Key when given. */
    async create(wc: WriteContext, input: TransactionInput, idempotencyKey: string | undefined): Promise<IdempotentResult<TransactionView>> {
      return db.transaction((trx) =>
        idempotent(trx, clock, { userId: wc.userId, scope: 'POST /transactions', key: idempotencyKey, request: input }, () => createInTrx(trx, wc, input)),
      );
    },

    /** Replaces a transaction (PUT): the balances move from the old postings to the new ones. */
    async update(wc: WriteContext, id: string, input: TransactionInput): Promise<TransactionView> {
      return db.transaction(async (trx) => {
        const existing = await lockOwn(trx, wc.userId, id);
        const oldEntries = await entriesOf(trx, id);
        const ids = [input.accountId, ...(input.toAccountId ? [input.toAccountId] : []), ...oldEntries.map((e) => e.account_id)];
        const accounts = await lockAccounts(trx, wc.userId, ids);
        for (const e of oldEntries) {
          const a = accounts.get(e.account_id);
          if (a?.archived) throw new ConflictError(`Account "${a.name}" is archived; its transactions cannot change.`, 'account_archived');
        }
        const { header, postings } = await resolve(trx, wc.userId, input, accounts);
        const row = await updatedRow(
          Transaction.query(trx).patch({ ...header, updated_at: clock.now() } as Partial<Transaction>).where({ id, user_id: wc.userId }).returning('*').first(),
          `transaction ${id}`,
        );
        await preparedSql(trx, 'DELETE FROM entries WHERE transaction_id = ?::uuid', [id]);
        await insertPostings(trx, wc.userId, id, postings);
        const balances = await applyBalances(trx, deltas(postingsOf(oldEntries), postings));
        const sides = { before: sideOf(existing, postingsOf(oldEntries)), after: sideOf(header, postings) };
        await moveDailyTotals(trx, wc.userId, [
          { side: sides.before, sign: -1 },
          { side: sides.after, sign: 1 },
        ]);
        const extra = await notify(trx, { userId: wc.userId, transactionId: id, action: 'update', ...sides, balances });
        const before = toTransactionView(existing);
        const after = toTransactionView(row);
        await record(trx, wc, id, 'update', before, after, balances, extra);
        return after;
      });
    },

    /** Deletes a transaction and takes its postings out of the balances; its history stays. */
    async remove(wc: WriteContext, id: string): Promise<void> {
      await db.transaction(async (trx) => {
        const existing = await lockOwn(trx, wc.userId, id);
        const oldEntries = await entriesOf(trx, id);
        const accounts = await lockAccounts(trx, wc.userId, oldEntries.map((e) => e.account_id));
        for (const a of accounts.values()) {
          if (a.archived) throw new ConflictError(`Account "${a.name}" is archived; its transactions cannot change.`, 'account_archived');
        }
        await Transaction.query(trx).delete().where({ id, user_id: wc.userId });
        const balances = await applyBalances(trx, deltas(postingsOf(oldEntries), []));
        const before = sideOf(existing, postingsOf(oldEntries));
        await moveDailyTotals(trx, wc.userId, [{ side: before, sign: -1 }]);
        const extra = await notify(trx, { userId: wc.userId, transactionId: id, action: 'delete', before, after: null, balances });
        await record(trx, wc, id, 'delete', toTransactionView(existing), null, balances, extra);
      });
    },

    async get(userId: string, id: string): Promise<TransactionView> {
      const row = await getTransactionRow(db, userId, id);
      if (!row) throw new NotFoundError('Transaction not found.');
      return toTransactionView(row);
    },

    /** Newest first, keyset-paginated on (date desc, id desc). */
    async list(userId: string, q: ListTransactionsQuery): Promise<KeysetPage<TransactionView>> {
      return keysetPage(await listTransactionRows(db, userId, q), q.limit, toTransactionView, (t) => [t.date, t.id]);
    },

    /** Every version, oldest first; readable after delete. 404 when none is the user's. */
    async history(userId: string, id: string) {
      const rows = await TransactionVersion.query(db).where({ transaction_id: id, user_id: userId }).orderBy('version');
      if (rows.length === 0) throw new NotFoundError('Transaction not found.');
      return {
        data: rows.map((r) => ({
          version: r.version,
          at: new Date(r.at).toISOString(),
          action: r.action,
          actorId: r.actor_id,
          before: (r.before ?? null) as TransactionView | null,
          after: (r.after ?? null) as TransactionView | null,
        })),
      };
    },
  };
}

export type TransactionService = ReturnType<typeof createTransactionService>;
