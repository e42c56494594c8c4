import { z } from 'zod';
import { isDateString } from '../shared/cursor.js';
import { currencySchema } from '../shared/money.js';

/**
 * Report queries. Shapes are checked here; what depends on the user (default range in their time
 * zone) and on two fields together (from ≤ to, range limits) is checked by the service, which
 * names the field in the same 400 problem.
 */

const yearInRange = (v: string) => {
  const y = Number(v.slice(0, 4));
  return y >= 1900 && y <= 2999;
};

export const reportMonth = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM')
  .refine(yearInRange, 'must be a year between 1900 and 2999')
  .meta({ example: '2026-01' });

export const reportDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(isDateString, 'must be a real calendar date')
  .refine(yearInRange, 'must be a year between 1900 and 2999')
  .meta({ format: 'date', example: '2026-01-31' });

const common = {
  currency: currencySchema.optional().meta({ description: 'Report in this currency (default: the user\u2019s)' }),
  format: z.enum(['json', 'csv'], { message: 'must be json or csv' }).default('json'),
};

export const monthlyQuery = z
  .object({
    from: reportMonth.optional().meta({ description: 'First month (default: 11 months before `to`)' }),
    to: reportMonth.optional().meta({ description: 'Last month (default: this month in the user\u2019s time zone)' }),
    ...common,
  })
  .strict();

export const categoriesQuery = z
  .object({
    from: reportDate.optional().meta({ description: 'First day (default: the first day of `to`\u2019s month)' }),
    to: reportDate.optional().meta({ description: 'Last day (default: today in the user\u2019s time zone)' }),
    type: z.enum(['expense', 'income'], { message: 'must be expense or income' }).default('expense'),
    ...common,
  })
  .strict();

export const netWorthQuery = z
  .object({
    from: reportDate.optional().meta({ description: 'First day (default: one year before `to`)' }),
    to: reportDate.optional().meta({ description: 'Last day (default: today in the user\u2019s time zone)' }),
    interval: z.enum(['day', 'week', 'month'], { message: 'must be day, week or month' }).default('month'),
    ...common,
  })
  .strict();

export type MonthlyQuery = z.output<typeof monthlyQuery>;
export type CategoriesQuery = z.output<typeof categoriesQuery>;
export type NetWorthQuery = z.output<typeof netWorthQuery>;

const missingRate = z.object({ from: z.string(), to: z.string(), date: z.string() }).meta({ id: 'MissingRate' });
const missingRates = z
  .array(missingRate)
  .meta({ description: 'Rates that were missing: one entry per pair, its earliest date. Those amounts are left out of the totals, never converted at 1.' });
const money = (description: string) => z.string().meta({ description: `${description}; decimal string with the currency\u2019s digits` });

export const monthlyView = z
  .object({
    currency: z.string(),
    from: z.string(),
    to: z.string(),
    months: z.array(z.object({ month: z.string(), income: money('Income'), expense: money('Expense'), net: money('income − expense') })),
    missingRates,
  })
  .meta({ id: 'MonthlyReport' });

export const categoriesView = z
  .object({
    currency: z.string(),
    from: z.string(),
    to: z.string(),
    type: z.enum(['expense', 'income']),
    total: money('Sum of the categories\u2019 totals'),
    categories: z.array(
      z.object({
        categoryId: z.uuid().nullable().meta({ description: 'null: uncategorised amounts' }),
        name: z.string(),
        total: money('Total'),
        share: z.string().meta({ description: 'Share of the total, 4 decimals; the shares sum to exactly 1 (largest remainder)' }),
      }),
    ),
    missingRates,
  })
  .meta({ id: 'CategoriesReport' });

export const netWorthView = z
  .object({
    currency: z.string(),
    from: z.string(),
    to: z.string(),
    interval: z.enum(['day', 'week', 'month']),
    points: z.array(
      z.object({
        date: z.string().meta({ description: 'End of the step (day; Sunday of an ISO week; last day of a month), or `to` for the last step' }),
        assets: money('Positive balances'),
        liabilities: money('Negative balances (e.g. a credit card below zero), as a positive amount owed'),
        netWorth: money('assets − liabilities'),
      }),
    ),
    missingRates,
  })
  .meta({ id: 'NetWorthReport' });

export type MonthlyView = z.output<typeof monthlyView>;
export type CategoriesView = z.output<typeof categoriesView>;
export type NetWorthView = z.output<typeof netWorthView>;
