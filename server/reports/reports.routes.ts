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
   * JSON by default; `?format=csv` streams the same figures as a download. Streamed downloads
   * (this, the transaction export, the GDPR export) are to share one per-user concurrency cap:
   * it belongs in front of the CSV branch below.
   */
  function respond<V>(toCsv: (v: V) => CsvReport) {
    return async ({ view, format, res }: { view: V; format: 'json' | 'csv'; res: Response }) => {
      res.setHeader('Cache-Control', 'no-store');
      if (format === 'json') return view;
      await sendCsv(res, ctx.logger, toCsv(view));
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
    handler: async ({ query, user, res }) => monthlyOut({ view: await reports.monthly(user.id, query), format: query.format, res }),
  });
  ctx.registry.add({
    method: 'get',
    path: '/reports/categories',
    access: 'user',
    summary: 'Expense (or income) per category, with shares summing to exactly 1',
    tags,
    query: categoriesQuery,
    responses: { 200: { description: JSON_OR_CSV, schema: categoriesView, alternatives: [CSV] } },
    handler: async ({ query, user, res }) => categoriesOut({ view: await reports.categories(user.id, query), format: query.format, res }),
  });
  ctx.registry.add({
    method: 'get',
    path: '/reports/net-worth',
    access: 'user',
    summary: 'Assets, liabilities and net worth at the end of each day, week or month',
    tags,
    query: netWorthQuery,
    responses: { 200: { description: JSON_OR_CSV, schema: netWorthView, alternatives: [CSV] } },
    handler: async ({ query, user, res }) => netWorthOut({ view: await reports.netWorth(user.id, query), format: query.format, res }),
  });
}
