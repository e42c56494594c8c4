import type { AuditService } from '../audit/index.js';
import type { Clock } from '../shared/clock.js';
import { isDateString } from '../shared/cursor.js';
import type { Db } from '../shared/db.js';
import { isCurrency } from '../shared/money.js';
import { RATE_RE } from './rates.schemas.js';

/**
 * The European Central Bank's historical reference rates (`eurofxref-hist.csv`): a header
 * `Date,USD,JPY,…` then one line per business day, `YYYY-MM-DD,1.0921,158.42,…`, each value the
 * price of 1 EUR in that column's currency, `N/A` (or empty) where the ECB has no rate. The ECB
 * ends every line with a comma; that empty last column is accepted.
 */

/** The file cannot be imported as a whole; `line` is 1-based (the header is line 1). */
export class EcbImportError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line ? `line ${line}: ${message}` : message);
  }
}

export interface EcbRow {
  quote: string;
  date: string;
  rate: string;
}

export interface EcbParsed {
  rows: EcbRow[];
  currencies: string[];
  /** Columns for currencies this service does not offer (e.g. ones retired before the euro). */
  skippedCurrencies: string[];
}

export interface EcbImportResult {
  rows: number;
  currencies: string[];
  skippedCurrencies: string[];
  from: string | null;
  to: string | null;
}

/** Parses the whole file or throws EcbImportError naming the first bad line; nothing is written here. */
export function parseEcbCsv(text: string): EcbParsed {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const cells = (line: string) => {
    const c = line.split(',').map((x) => x.trim());
    if (c.length > 1 && c[c.length - 1] === '') c.pop();
    return c;
  };
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0) throw new EcbImportError('the file is empty');
  const header = cells(lines[headerIndex]);
  const headerLine = headerIndex + 1;
  if (header[0] !== 'Date') throw new EcbImportError('the first column must be "Date" (ECB historical CSV layout)', headerLine);
  const columns = header.slice(1);
  if (columns.length === 0) throw new EcbImportError('no currency columns after "Date"', headerLine);
  const seen = new Set<string>();
  for (const c of columns) {
    if (!/^[A-Z]{3}$/.test(c)) throw new EcbImportError(`"${c}" is not a currency code`, headerLine);
    if (seen.has(c)) throw new EcbImportError(`currency ${c} appears twice`, headerLine);
    if (c === 'EUR') throw new EcbImportError('a column for EUR itself makes no sense: every rate is against EUR', headerLine);
    seen.add(c);
  }
  const supported = columns.map((c) => isCurrency(c));
  const rows: EcbRow[] = [];
  const dates = new Set<string>();
  for (let i = headerIndex + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const lineNo = i + 1;
    const c = cells(lines[i]);
    if (c.length !== header.length) throw new EcbImportError(`expected ${header.length} columns like the header, found ${c.length}`, lineNo);
    const date = c[0];
    if (!isDateString(date)) throw new EcbImportError(`"${date}" is not a date YYYY-MM-DD`, lineNo);
    if (dates.has(date)) throw new EcbImportError(`date ${date} appears twice`, lineNo);
    dates.add(date);
    for (let j = 0; j < columns.length; j++) {
      const v = c[j + 1];
      if (v === 'N/A' || v === '') continue;
      if (!RATE_RE.test(v) || !/[1-9]/.test(v)) throw new EcbImportError(`${columns[j]}: "${v}" is not a positive rate with at most 12 digits after the point`, lineNo);
      if (supported[j]) rows.push({ quote: columns[j], date, rate: v });
    }
  }
  if (dates.size === 0) throw new EcbImportError('the file has a header but no rates');
  return { rows, currencies: columns.filter((_, j) => supported[j]), skippedCurrencies: columns.filter((_, j) => !supported[j]) };
}

const BATCH = 5000;

/**
 * Imports an ECB historical file: every rate becomes EUR→quote on its date, replacing a stored
 * rate of the same day. All or nothing: the file is parsed completely first, then written in one
 * database transaction with one audit entry (actor: the operator, i.e. null).
 */
export async function importEcbCsv(deps: { db: Db; audit: AuditService; clock: Clock }, text: string, opts: { file?: string } = {}): Promise<EcbImportResult> {
  const parsed = parseEcbCsv(text);
  const dates = parsed.rows.map((r) => r.date).sort();
  const result: EcbImportResult = {
    rows: parsed.rows.length,
    currencies: parsed.currencies,
    skippedCurrencies: parsed.skippedCurrencies,
    from: dates[0] ?? null,
    to: dates[dates.length - 1] ?? null,
  };
  await deps.db.transaction(async (trx) => {
    const now = deps.clock.now();
    for (let i = 0; i < parsed.rows.length; i += BATCH) {
      const batch = parsed.rows.slice(i, i + BATCH);
      await trx.raw(
        `INSERT INTO exchange_rates (base, quote, date, rate, source, created_at, updated_at)
         SELECT 'EUR', q, d, r, 'ecb', ?, ? FROM unnest(?::text[], ?::date[], ?::numeric[]) AS x(q, d, r)
         ON CONFLICT (base, quote, date) DO UPDATE SET rate = EXCLUDED.rate, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at`,
        [now, now, batch.map((r) => r.quote), batch.map((r) => r.date), batch.map((r) => r.rate)],
      );
    }
    await deps.audit.record(trx, {
      action: 'rate.imported',
      actorId: null,
      userId: null,
      entityType: 'exchange_rate',
      after: { source: 'ecb', file: opts.file ?? null, ...result },
    });
  });
  return result;
}
