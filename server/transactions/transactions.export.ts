import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { stringify } from 'csv-stringify';
import QueryStream from 'pg-query-stream';
import type { Logger } from 'pino';
import { knexPool, type Db } from '../shared/db.js';
import { neutraliseFormula } from '../shared/csv.js';
import { formatAmount } from '../shared/money.js';
import type { Transaction } from './transactions.model.js';
import { toTransactionView } from './transactions.service.js';

export const EXPORT_COLUMNS = [
  'id',
  'date',
  'type',
  'accountId',
  'accountName',
  'amount',
  'currency',
  'toAccountId',
  'toAccountName',
  'toAmount',
  'toCurrency',
  'categoryId',
  'categoryName',
  'notes',
  'recurringId',
  'createdAt',
  'updatedAt',
] as const;

export { neutraliseFormula };

type ExportRow = Transaction & { account_name: string; to_account_name: string | null; category_name: string | null };

function csvRecord(r: ExportRow): Record<string, string | null> {
  const v = toTransactionView(r);
  return {
    id: v.id,
    date: v.date,
    type: v.type,
    accountId: v.accountId,
    accountName: neutraliseFormula(r.account_name),
    amount: formatAmount(r.amount, r.currency),
    currency: v.currency,
    toAccountId: v.toAccountId,
    toAccountName: neutraliseFormula(r.to_account_name),
    toAmount: v.toAmount,
    toCurrency: v.toCurrency,
    categoryId: v.categoryId,
    categoryName: neutraliseFormula(r.category_name),
    notes: neutraliseFormula(v.notes),
    recurringId: v.recurringId,
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
  };
}

/** JSON array, one element per row, written as rows arrive: memory stays flat for any count. */
function jsonArray(): Transform {
  let first = true;
  return new Transform({
    writableObjectMode: true,
    transform(row: ExportRow, _enc, cb) {
      const item = { ...toTransactionView(row), accountName: row.account_name, toAccountName: row.to_account_name, categoryName: row.category_name };
      cb(null, (first ? '[\n' : ',\n') + JSON.stringify(item));
      first = false;
    },
    flush(cb) {
      cb(null, first ? '[]\n' : '\n]\n');
    },
  });
}

function isClientGone(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * Joins the account and category names (tables of accounts and categories) into the one streamed
 * statement instead of asking their owners: the stream holds one connection of the download pool,
 * sized to the download slots, so a second query per export could wait on that pool forever.
 *
 * Streams the user's transactions from a server-side cursor (pg-query-stream) through CSV or JSON
 * into the response, with backpressure end to end: at most a batch of rows is in memory, whatever
 * the row count. The raw connection is held only for the duration of the stream.
 */
export async function streamExport(
  db: Db,
  logger: Logger,
  res: Response,
  opts: { userId: string; format: 'csv' | 'json'; from?: string; to?: string; today: string },
): Promise<void> {
  const q = db('transactions as t')
    .leftJoin('accounts as a', 'a.id', 't.account_id')
    .leftJoin('accounts as ta', 'ta.id', 't.to_account_id')
    .leftJoin('categories as c', 'c.id', 't.category_id')
    .where('t.user_id', opts.userId)
    .select('t.*', 'a.name as account_name', 'ta.name as to_account_name', 'c.name as category_name')
    .orderBy([{ column: 't.date', order: 'desc' }, { column: 't.id', order: 'desc' }]);
  if (opts.from) q.where('t.date', '>=', opts.from);
  if (opts.to) q.where('t.date', '<=', opts.to);
  const { sql, bindings } = q.toSQL().toNative();

  const pool = knexPool<{ query: (s: QueryStream) => QueryStream }>(db);
  const conn = await pool.acquireConnection();
  try {
    const rows = conn.query(new QueryStream(sql, bindings as unknown[], { batchSize: 1000 }));
    const name = `numina-transactions-${opts.today}.${opts.format}`;
    res.status(200);
    res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
    res.setHeader('Cache-Control', 'no-store');
    if (opts.format === 'csv') {
      res.type('text/csv; charset=utf-8');
      const toRecord = new Transform({
        objectMode: true,
        transform(row: ExportRow, _enc, cb) {
          cb(null, csvRecord(row));
        },
      });
      await pipeline(rows, toRecord, stringify({ header: true, columns: [...EXPORT_COLUMNS] }), res);
    } else {
      res.type('application/json; charset=utf-8');
      await pipeline(rows, jsonArray(), res);
    }
  } catch (err) {
    if (!isClientGone(err)) throw err;
    logger.debug({ err }, 'export: client went away');
  } finally {
    await pool.releaseConnection(conn);
  }
}
