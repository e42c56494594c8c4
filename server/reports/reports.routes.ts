import type { Response } from 'express';
import { z } from 'zod';
import type { FeatureContext } from '../context.js';
import { categoriesCsv, monthlyCsv, netWorthCsv, sendCsv, type CsvReport } from './reports.csv.js';
import { categoriesQuery, categoriesView, monthlyQuery, monthlyView, netWorthQuery, netWorthView } from './reports.schemas.js';
import type { ReportsService } from './reports.service.js';

const CSV = { contentType: 'text/csv', schema: z.string() };
const JSON_OR_CSV =
  'The report as JSON; with ?format=csv the same rows as text/csv (header row, Content-Disposition file name, missing rates in the Missing-Rates header)';

export function registerReportsRoutes(ctx: FeatureContext, reports: ReportsService): void {
  const tags = ['Reports'];

  /**
   * JSON by default; `?format=csv` streams the same figures as a download. A CSV download takes one
   * of the caller's download slots (shared with the transaction export and the data export; 429
   * beyond) before any work, and gives it back when the response closes or the report fails.
   */
  function respond<V>(toCsv: (v: V) => CsvReport) {
    return async ({ load, format, userId, res }: { load: () => Promise<V>; format: 'json' | 'csv'; userId: string; res: Response }) => {
      res.setHeader('Cache-Control', 'no-store');
      if (format === 'json') return load();
      const release = ctx.downloads.acquire(userId, res);
      try {
        await sendCsv(res, ctx.logger, toCsv(await load()));
      } catch (err) {
        release();
        throw err;
      }
      return undefined;
    };
  }
  const monthlyOut = respond(monthlyCsv);
  const categoriesOut = respond(categoriesCsv);
  const netWorthOut = respond(netWorthCsv);

  ctx.registry.add({
    method: 'get',
    path: '/reports/monthly',
    access: 'user',
    summary: 'Income and expense per month (transfers are neither), every month of the range',
    tags,
    query: monthlyQuery,
    responses: { 200: { description: JSON_OR_CSV, schema: monthlyView, alternatives: [CSV] } },
    handler: async ({ query, user, res }) => monthlyOut({ load: () => reports.monthly(user.id, query), format: query.format, userId: user.id, res }),
  });
  ctx.registry.add({
    method: 'get',
    path: '/reports/categories',
    access: 'user',
    summary: 'Expense (or income) per category, with shares summing to exactly 1',
    tags,
    query: categoriesQuery,
    responses: { 200: { description: JSON_OR_CSV, schema: categoriesView, alternatives: [CSV] } },
    handler: async ({ query, user, res }) => categoriesOut({ load: () => reports.categories(user.id, query), format: query.format, userId: user.id, res }),
  });
  ctx.registry.add({
    method: 'get',
    path: '/reports/net-worth',
    access: 'user',
    summary: 'Assets, liabilities and net worth at the end of each day, week or month',
    tags,
    query: netWorthQuery,
    responses: { 200: { description: JSON_OR_CSV, schema: netWorthView, alternatives: [CSV] } },
    handler: async ({ query, user, res }) => netWorthOut({ load: () => reports.netWorth(user.id, query), format: query.format, userId: user.id, res }),
  });
}
