import { z } from 'zod';
import { isoDate, listQuery } from '../shared/http.js';
import { Decimal, positiveAmountSchema } from '../shared/money.js';
import { BUDGET_PERIODS } from './budgets.periods.js';

const THRESHOLD_RE = /^(0|[12])(\.\d{1,4})?$/;

const threshold = z
  .string({ message: 'must be a decimal string like "0.8"' })
  .regex(THRESHOLD_RE, 'must be a decimal string like "0.8" (at most 4 decimals)')
  .refine((v) => new Decimal(v).gt(0) && new Decimal(v).lte(2), 'must be greater than 0 and at most 2');

/** Thresholds: each in (0, 2], unique; stored (and shown) ascending. */
const thresholds = z
  .array(threshold)
  .min(1, 'must name at least one threshold')
  .max(10, 'at most 10 thresholds')
  .refine((list) => new Set(list.map((t) => new Decimal(t).toString())).size === list.length, 'must not repeat a threshold')
  .transform((list) => list.map((t) => new Decimal(t)).sort((a, b) => a.comparedTo(b)).map((d) => d.toString()))
  .meta({ example: ['0.8', '1'], description: 'Shares of the amount that raise an alert when spent crosses them; each in (0, 2]' });

export const createBudgetBody = z
  .object({
    categoryId: z.uuid({ message: 'must be a UUID' }),
    amount: positiveAmountSchema.meta({ description: "The limit per period, in your currency (the budget keeps it)" }),
    period: z.enum(BUDGET_PERIODS),
    thresholds: thresholds.optional(),
  })
  .strict();

export const patchBudgetBody = z
  .object({
    amount: positiveAmountSchema.optional(),
    thresholds: thresholds.optional(),
  })
  .strict();

export const listBudgetsQuery = z.object({ ...listQuery }).strict();

export const historyQuery = z
  .object({ periods: z.coerce.number().int().min(1).max(120).default(12).meta({ description: 'How many periods, the current one last (default 12)' }) })
  .strict();

const missingRate = z.object({ from: z.string(), to: z.string(), date: isoDate });

export const budgetView = z
  .object({
    id: z.uuid(),
    categoryId: z.uuid(),
    amount: z.string(),
    currency: z.string(),
    period: z.enum(BUDGET_PERIODS),
    thresholds: z.array(z.string()),
    periodStart: isoDate,
    periodEnd: isoDate,
    spent: z.string().meta({ description: "The period's expenses in the category, in the budget's currency" }),
    remaining: z.string().meta({ description: 'amount − spent; negative when over' }),
    progress: z.string().meta({ description: 'spent / amount with 4 decimals (rounded down), not capped', example: '0.8125' }),
    missingRates: z.array(missingRate).meta({ description: 'Expenses in these currencies had no rate and are left out of spent' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Budget' });

export const budgetPeriodView = z.object({
  periodStart: isoDate,
  periodEnd: isoDate,
  amount: z.string(),
  spent: z.string(),
  remaining: z.string(),
  progress: z.string(),
  missingRates: z.array(missingRate),
});

export const historyView = z
  .object({ budgetId: z.uuid(), period: z.enum(BUDGET_PERIODS), currency: z.string(), data: z.array(budgetPeriodView) })
  .meta({ id: 'BudgetHistory', description: 'Periods oldest first, the current one last' });

export type CreateBudgetInput = z.output<typeof createBudgetBody>;
export type PatchBudgetInput = z.output<typeof patchBudgetBody>;
export type BudgetView = z.output<typeof budgetView>;
export type BudgetPeriodView = z.output<typeof budgetPeriodView>;
