/**
 * The ledger's hot reads (a page of transactions, one transaction) as prepared statements: one text
 * per filter combination, built from fixed fragments with every value a parameter, so PostgreSQL
 * plans each once per connection and no query builder runs per request.
 */
import { decodeCursor, isDateString, isUuid } from '../shared/cursor.js';
import { preparedRows, statementParams, type Db } from '../shared/db.js';
import { TRANSACTION_COLUMNS, type TransactionRow } from './transactions.model.js';
import type { ListTransactionsQuery } from './transactions.schemas.js';

/** The user's transactions matching `q`, newest first on (date desc, id desc), `q.limit + 1` rows (the extra one says "more"). */
export function listTransactionRows(db: Db, userId: string, q: ListTransactionsQuery): Promise<TransactionRow[]> {
  const p = statementParams();
  const where = [`user_id = ${p.add(userId)}`];
  if (q.accountId) {
    const acc = p.add(q.accountId);
    where.push(`(account_id = ${acc} OR to_account_id = ${acc})`);
  }
  if (q.categoryId) where.push(`category_id = ${p.add(q.categoryId)}`);
  if (q.type) where.push(`type = ${p.add(q.type)}`);
  if (q.from) where.push(`date >= ${p.add(q.from)}::date`);
  if (q.to) where.push(`date <= ${p.add(q.to)}::date`);
  if (q.q) where.push(`notes ILIKE ${p.add(`%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`)} ESCAPE '\\'`);
  if (q.cursor) {
    const [date, id] = decodeCursor(q.cursor, [isDateString, isUuid]);
    where.push(`(date, id) < (${p.add(date)}::date, ${p.add(id)}::uuid)`);
  }
  const text = `SELECT ${TRANSACTION_COLUMNS} FROM transactions WHERE ${where.join(' AND ')} ORDER BY date DESC, id DESC LIMIT ${p.add(q.limit + 1)}`;
  return preparedRows<TransactionRow>(db, text, p.values);
}

/** One of the user's transactions, or undefined (another user's id is simply not found). */
export async function getTransactionRow(db: Db, userId: string, id: string): Promise<TransactionRow | undefined> {
  const [row] = await preparedRows<TransactionRow>(db, `SELECT ${TRANSACTION_COLUMNS} FROM transactions WHERE id = $1 AND user_id = $2`, [id, userId]);
  return row;
}
