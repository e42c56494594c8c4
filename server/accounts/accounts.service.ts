import type { Knex } from 'knex';
import type { AuditService } from '../audit/index.js';
import type { Clock } from '../shared/clock.js';
import { createdCursorKey, keysetPage, type KeysetPage } from '../shared/cursor.js';
import { preparedRows, preparedSql, statementParams, updatedRow, type Db } from '../shared/db.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { formatAmount, type Decimal } from '../shared/money.js';
import type { WriteContext } from '../shared/write-context.js';
import { ACCOUNT_COLUMNS, Account, type AccountRow } from './accounts.model.js';
import type { AccountView, CreateAccountInput, PatchAccountInput } from './accounts.schemas.js';

export interface AccountServiceDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  /** The ledger's answer to "does any transaction post to this account?" (inside `trx`). */
  hasTransactions: (trx: Knex.Transaction, accountId: string) => Promise<boolean>;
  /** Called inside the transaction that archives or deletes an account (goals unlink it). */
  onRetired?: AccountRetiredListener[];
}

/** An account left active use: archived, or deleted. */
export type AccountRetiredListener = (trx: Knex.Transaction, userId: string, accountId: string, reason: 'archived' | 'deleted') => Promise<void>;

/** The user's accounts among `ids` with balance, currency and archived flag (as committed, or as locked by the caller). */
export async function accountBalances(q: Knex | Knex.Transaction, userId: string, ids: readonly string[]): Promise<Pick<Account, 'id' | 'currency' | 'balance' | 'archived'>[]> {
  if (ids.length === 0) return [];
  return Account.query(q).where('user_id', userId).whereIn('id', [...ids]).orderBy('id').select('id', 'currency', 'balance', 'archived');
}

export function toAccountView(a: AccountRow): AccountView {
  return {
    id: a.id,
    name: a.name,
    type: a.type,
    currency: a.currency,
    balance: formatAmount(a.balance, a.currency),
    openingBalance: formatAmount(a.opening_balance, a.currency),
    archived: a.archived,
    createdAt: new Date(a.created_at).toISOString(),
    updatedAt: new Date(a.updated_at).toISOString(),
  };
}

/**
 * Locks the caller's accounts among `ids` (FOR UPDATE) in ascending id order, so that any two
 * ledger writes lock shared accounts in the same order and cannot deadlock. Ids that are not the
 * user's are simply absent from the result (the caller answers 404).
 */
export async function lockAccounts(trx: Knex.Transaction, userId: string, ids: string[]): Promise<Map<string, Account>> {
  const unique = [...new Set(ids)].sort();
  if (unique.length === 0) return new Map();
  // A fixed text (ids as one array) so it runs as a prepared statement: every ledger write takes it.
  const rows = await preparedSql<Record<string, unknown>>(trx, `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE user_id = ?::uuid AND id = ANY(?::uuid[]) ORDER BY id FOR UPDATE`, [userId, unique]);
  return new Map(rows.map((r) => Account.fromDatabaseJson(r)).map((a) => [a.id, a]));
}

/**
 * Adds `delta` to an account's stored balance and returns the new balance (NUMERIC string).
 * Call only while holding the account's row lock (lockAccounts), in the transaction that writes
 * the entries the delta stands for: the stored balance then always equals opening + Σ entries.
 */
export async function adjustBalance(trx: Knex.Transaction, accountId: string, delta: Decimal): Promise<string> {
  const rows = await preparedSql<{ balance: string }>(trx, 'UPDATE accounts SET balance = balance + ?::numeric WHERE id = ?::uuid RETURNING balance', [delta.toFixed(), accountId]);
  return rows[0].balance;
}

/** Accounts: create, read, rename/archive, delete (only while no transaction uses it). */
export function createAccountService({ db, clock, audit, hasTransactions, onRetired = [] }: AccountServiceDeps) {
  return {
    /** Creates an account whose balance starts at its opening balance. */
    async create(write: WriteContext, input: CreateAccountInput): Promise<AccountView> {
      return db.transaction(async (trx) => {
        const now = clock.now();
        const opening = input.openingBalance ?? '0';
        const row = await Account.query(trx)
          .insert({
            user_id: write.userId,
            name: input.name,
            type: input.type,
            currency: input.currency,
            opening_balance: opening,
            balance: opening,
            archived: false,
            created_at: now,
            updated_at: now,
          } as Partial<Account>)
          .returning('*');
        const view = toAccountView(row);
        await audit.recordWrite(trx, write, { action: 'account.create', entityType: 'account', entityId: view.id, before: null, after: view });
        return view;
      });
    },

    /** The user's accounts with balances, oldest first, keyset-paginated on (created_at, id). */
    async list(userId: string, q: { limit: number; cursor?: string; archived?: 'true' | 'false' }): Promise<KeysetPage<AccountView>> {
      // A prepared statement per filter combination (at most four texts): no query builder per request.
      const p = statementParams();
      const where = [`user_id = ${p.add(userId)}`];
      if (q.archived) where.push(`archived = ${p.add(q.archived === 'true')}`);
      const after = createdCursorKey(q.cursor);
      if (after) where.push(`(created_at, id) > (${p.add(after[0])}::timestamptz, ${p.add(after[1])}::uuid)`);
      const rows = await preparedRows<AccountRow>(db, `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ${p.add(q.limit + 1)}`, p.values);
      return keysetPage(rows, q.limit, toAccountView, (a) => [new Date(a.created_at).toISOString(), a.id]);
    },

    async get(userId: string, id: string): Promise<AccountView> {
      const [row] = await preparedRows<AccountRow>(db, `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1 AND user_id = $2`, [id, userId]);
      if (!row) throw new NotFoundError('Account not found.');
      return toAccountView(row);
    },

    /** Renames or (un)archives. An archived account keeps its history but takes no new transactions. */
    async patch(write: WriteContext, id: string, input: PatchAccountInput): Promise<AccountView> {
      return db.transaction(async (trx) => {
        const found = (await lockAccounts(trx, write.userId, [id])).get(id);
        if (!found) throw new NotFoundError('Account not found.');
        const before = toAccountView(found);
        const changes: Partial<Account> = {};
        if (input.name !== undefined) changes.name = input.name;
        if (input.archived !== undefined) changes.archived = input.archived;
        if (Object.keys(changes).length === 0) return before;
        changes.updated_at = clock.now();
        const row = await updatedRow(Account.query(trx).patch(changes).where({ id, user_id: write.userId }).returning('*').first(), `account ${id}`);
        const after = toAccountView(row);
        if (after.archived && !before.archived) for (const l of onRetired) await l(trx, write.userId, id, 'archived');
        await audit.recordWrite(trx, write, { action: 'account.update', entityType: 'account', entityId: id, before, after });
        return after;
      });
    },

    /** Deletes an account that no transaction uses (409 otherwise: the ledger never loses entries). */
    async remove(write: WriteContext, id: string): Promise<void> {
      await db.transaction(async (trx) => {
        // The row lock keeps new entries out (every ledger write locks its accounts first).
        const found = (await lockAccounts(trx, write.userId, [id])).get(id);
        if (!found) throw new NotFoundError('Account not found.');
        const used = await hasTransactions(trx, id);
        if (used) throw new ConflictError('The account still has transactions; delete or move them first, or archive the account.', 'account_has_transactions');
        for (const l of onRetired) await l(trx, write.userId, id, 'deleted');
        await Account.query(trx).delete().where({ id, user_id: write.userId });
        await audit.recordWrite(trx, write, { action: 'account.delete', entityType: 'account', entityId: id, before: toAccountView(found), after: null });
      });
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
