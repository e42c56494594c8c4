import { z } from 'zod';
import { TRANSACTION_TYPES } from '../transactions/index.js';
import { isoDate, listQuery } from '../shared/http.js';
import { positiveAmountSchema } from '../shared/money.js';
import { FREQUENCIES } from './recurring.calendar.js';
import { ENDED_REASONS, RULE_STATUSES } from './recurring.model.js';

const positiveAmount = positiveAmountSchema;
const uuid = z.uuid({ message: 'must be a UUID' });

/** The transaction template: every field of a transaction except its date. */
const template = {
  accountId: uuid,
  type: z.enum(TRANSACTION_TYPES),
  amount: positiveAmount.meta({ description: 'Positive decimal string within the account currency precision' }),
  categoryId: uuid.nullable().optional(),
  notes: z.string().max(1000).nullable().optional(),
  toAccountId: uuid.nullable().optional().meta({ description: 'Transfers only: the receiving account' }),
  toAmount: positiveAmount.nullable().optional().meta({ description: 'Transfers only: what arrives, in the receiving currency; required when the currencies differ' }),
};

const schedule = {
  frequency: z.enum(FREQUENCIES),
  interval: z.coerce.number().int('must be a whole number').min(1, 'must be between 1 and 366').max(366, 'must be between 1 and 366').meta({ description: 'Every `interval` days/weeks/months/years (default 1)' }),
  endDate: isoDate.nullable().optional().meta({ description: 'Last possible occurrence date (inclusive); exclusive with count' }),
  count: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000).nullable().optional().meta({ description: 'Number of occurrences in all; exclusive with endDate' }),
};

type Shape = { type?: string; toAccountId?: string | null; accountId?: string; categoryId?: string | null; toAmount?: string | null; endDate?: string | null; count?: number | null };

function checkShape(b: Shape, ctx: z.RefinementCtx) {
  if (b.type === 'transfer') {
    if (!b.toAccountId) ctx.addIssue({ code: 'custom', path: ['toAccountId'], message: 'is required for a transfer' });
    else if (b.toAccountId === b.accountId) ctx.addIssue({ code: 'custom', path: ['toAccountId'], message: 'must be another account than accountId' });
    if (b.categoryId) ctx.addIssue({ code: 'custom', path: ['categoryId'], message: 'a transfer has no category' });
  } else if (b.type !== undefined) {
    if (b.toAccountId) ctx.addIssue({ code: 'custom', path: ['toAccountId'], message: 'only a transfer has a receiving account' });
    if (b.toAmount) ctx.addIssue({ code: 'custom', path: ['toAmount'], message: 'only a transfer has toAmount' });
  }
  if (b.endDate != null && b.count != null) ctx.addIssue({ code: 'custom', path: ['count'], message: 'give endDate or count, not both' });
}

export const createRuleBody = z
  .object({
    ...template,
    ...schedule,
    interval: schedule.interval.default(1),
    startDate: isoDate.meta({ description: 'First occurrence; at most 10 years back (occurrences up to today are created at once)' }),
  })
  .strict()
  .superRefine((b, ctx) => {
    checkShape(b, ctx);
    if (b.endDate != null && b.endDate < b.startDate) ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'must not be before startDate' });
  });
export type CreateRuleInput = z.output<typeof createRuleBody>;

/** PATCH: any template or schedule field; applies to occurrences after today only. */
export const patchRuleBody = z
  .object({
    amount: template.amount.optional(),
    categoryId: template.categoryId,
    notes: template.notes,
    accountId: template.accountId.optional(),
    toAccountId: template.toAccountId,
    toAmount: template.toAmount,
    frequency: schedule.frequency.optional(),
    interval: schedule.interval.optional(),
    endDate: schedule.endDate,
    count: schedule.count,
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.endDate != null && b.count != null) ctx.addIssue({ code: 'custom', path: ['count'], message: 'give endDate or count, not both' });
  });
export type PatchRuleInput = z.output<typeof patchRuleBody>;

export const listRulesQuery = z
  .object({
    ...listQuery,
    status: z.enum(RULE_STATUSES).default('active').meta({ description: 'active (default) or ended rules' }),
  })
  .strict();
export type ListRulesQuery = z.output<typeof listRulesQuery>;

export const ruleView = z
  .object({
    id: z.uuid(),
    accountId: z.uuid().nullable(),
    type: z.enum(TRANSACTION_TYPES),
    amount: z.string(),
    currency: z.string(),
    categoryId: z.uuid().nullable(),
    notes: z.string().nullable(),
    toAccountId: z.uuid().nullable(),
    toAmount: z.string().nullable(),
    toCurrency: z.string().nullable(),
    frequency: z.enum(FREQUENCIES),
    interval: z.number().int(),
    startDate: z.string(),
    endDate: z.string().nullable(),
    count: z.number().int().nullable(),
    status: z.enum(RULE_STATUSES),
    nextDate: z.string().nullable().meta({ description: 'The next occurrence not yet created; null once ended' }),
    occurrencesCreated: z.number().int(),
    endedAt: z.string().nullable(),
    endedReason: z.enum(ENDED_REASONS).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'RecurringRule' });
export type RuleView = z.output<typeof ruleView>;
