import { z } from 'zod';
import { isoDate, listQuery } from '../shared/http.js';
import { positiveAmountSchema as positiveAmount } from '../shared/money.js';
import { TRANSACTION_TYPES, VERSION_ACTIONS } from './transactions.model.js';

/**
 * POST and PUT body. Shape rules live here; rules that need the accounts (currency precision,
 * ownership, archived, toAmount when currencies differ, category kind) live in the service.
 */
export const transactionBody = z
  .object({
    accountId: z.uuid({ message: 'must be a UUID' }),
    type: z.enum(TRANSACTION_TYPES),
    amount: positiveAmount.meta({ description: 'Positive decimal string within the account currency precision' }),
    date: isoDate,
    categoryId: z.uuid({ message: 'must be a UUID' }).nullable().optional(),
    notes: z.string().max(1000).nullable().optional(),
    toAccountId: z.uuid({ message: 'must be a UUID' }).nullable().optional().meta({ description: 'Transfers only: the receiving account' }),
    toAmount: positiveAmount
      .nullable()
      .optional()
      .meta({ description: 'Transfers only: what arrived, in the receiving account currency; required when the currencies differ' }),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.type === 'transfer') {
      if (!b.toAccountId) ctx.addIssue({ code: 'custom', path: ['toAccountId'], message: 'is required for a transfer' });
      else if (b.toAccountId === b.accountId) ctx.addIssue({ code: 'custom', path: ['toAccountId'], message: 'must be another account than accountId' });
      if (b.categoryId) ctx.addIssue({ code: 'custom', path: ['categoryId'], message: 'a transfer has no category' });
    } else {
      if (b.toAccountId) ctx.addIssue({ code: 'custom', path: ['toAccountId'], message: 'only a transfer has a receiving account' });
      if (b.toAmount) ctx.addIssue({ code: 'custom', path: ['toAmount'], message: 'only a transfer has toAmount' });
    }
  });

export type TransactionInput = z.output<typeof transactionBody>;

export const listTransactionsQuery = z
  .object({
    ...listQuery,
    accountId: z.uuid({ message: 'must be a UUID' }).optional().meta({ description: 'Either leg of the transaction is in this account' }),
    categoryId: z.uuid({ message: 'must be a UUID' }).optional(),
    type: z.enum(TRANSACTION_TYPES).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    q: z.string().min(1).max(200).optional().meta({ description: 'Case-insensitive substring of the notes' }),
  })
  .strict();

export type ListTransactionsQuery = z.output<typeof listTransactionsQuery>;

export const exportQuery = z
  .object({
    format: z.enum(['csv', 'json']).default('csv'),
    from: isoDate.optional(),
    to: isoDate.optional(),
  })
  .strict();

export const transactionView = z
  .object({
    id: z.uuid(),
    accountId: z.uuid(),
    type: z.enum(TRANSACTION_TYPES),
    amount: z.string(),
    currency: z.string(),
    date: z.string(),
    categoryId: z.uuid().nullable(),
    notes: z.string().nullable(),
    toAccountId: z.uuid().nullable(),
    toAmount: z.string().nullable(),
    toCurrency: z.string().nullable(),
    recurringId: z.uuid().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Transaction' });

export type TransactionView = z.output<typeof transactionView>;

export const historyView = z
  .object({
    data: z.array(
      z.object({
        version: z.number().int(),
        at: z.string(),
        action: z.enum(VERSION_ACTIONS),
        actorId: z.string().nullable(),
        // A union, not .nullable(): on a named component that renders as allOf[$ref, null], which no null matches.
        before: z.union([transactionView, z.null()]),
        after: z.union([transactionView, z.null()]),
      }),
    ),
  })
  .meta({ id: 'TransactionHistory' });
