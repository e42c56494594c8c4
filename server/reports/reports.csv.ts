import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { stringify } from 'csv-stringify';
import type { Logger } from 'pino';
import { neutraliseFormula } from '../transactions/index.js';
import type { CategoriesView, MonthlyView, NetWorthView } from './reports.schemas.js';

export interface CsvReport {
  filename: string;
  columns: string[];
  rows: Record<string, string | null>[];
  missingRates: unknown[];
}

export function monthlyCsv(v: MonthlyView): CsvReport {
  return {
    filename: `numina-monthly-${v.from}-${v.to}-${v.currency}.csv`,
    columns: ['month', 'income', 'expense', 'net', 'currency'],
    rows: v.months.map((m) => ({ ...m, currency: v.currency })),
    missingRates: v.missingRates,
  };
}

export function categoriesCsv(v: CategoriesView): CsvReport {
  return {
    filename: `numina-categories-${v.type}-${v.from}-${v.to}-${v.currency}.csv`,
    columns: ['categoryId', 'name', 'total', 'share', 'currency'],
    // Category names are user text: neutralised so a spreadsheet never runs one as a formula.
    rows: v.categories.map((c) => ({ categoryId: c.categoryId, name: neutraliseFormula(c.name), total: c.total, share: c.share, currency: v.currency })),
    missingRates: v.missingRates,
  };
}

export function netWorthCsv(v: NetWorthView): CsvReport {
  return {
    filename: `numina-net-worth-${v.interval}-${v.from}-${v.to}-${v.currency}.csv`,
    columns: ['date', 'assets', 'liabilities', 'netWorth', 'currency'],
    rows: v.points.map((p) => ({ ...p, currency: v.currency })),
    missingRates: v.missingRates,
  };
}

/**
 * Writes a report as CSV (header row, one row per month / category / point) with backpressure:
 * rows are stringified as the client reads. Missing rates, which have no place in the table, go in
 * the `Missing-Rates` header as the same JSON array the JSON form carries.
 */
export async function sendCsv(res: Response, logger: Logger, report: CsvReport): Promise<void> {
  res.status(200);
  res.type('text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${report.filename}"`);
  res.setHeader('Missing-Rates', JSON.stringify(report.missingRates));
  try {
    await pipeline(Readable.from(report.rows), stringify({ header: true, columns: report.columns }), res);
  } catch (err) {
    const code = (err as { code?: string })?.code;
    if (code !== 'ERR_STREAM_PREMATURE_CLOSE' && code !== 'ECONNRESET' && code !== 'EPIPE') throw err;
    logger.debug({ err }, 'report csv: client went away');
  }
}
