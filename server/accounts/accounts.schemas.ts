import { z } from 'zod';
import { listQuery } from '../shared/http.js';
import { amountSchema, checkAmount, currencySchema } from '../shared/money.js';
import { ACCOUNT_TYPES } from './accounts.model.js';

const name = z.string().trim().min(1, 'must not be empty').max(100);

export const createAccountBody = z
  .object({
    name,
    type: z.enum(ACCOUNT_TYPES),
    currency: currencySchema,
    openingBalance: amountSchema.optional().meta({ description: 'May be negative (e.g. a credit card). Default "0".' }),
  })
  .strict()
  .superRefine((b, ctx) => checkAmount(ctx, b.openingBalance, b.currency, ['openingBalance']));

export const patchAccountBody = z
  .object({
    name: name.optional(),
    archived: z.boolean().optional(),
  })
  .strict();

export const listAccountsQuery = z
  .object({
    ...listQuery,
    archived: z.enum(['true', 'false']).optional().meta({ description: 'Only archived (true) or only active (false) accounts' }),
  })
  .strict();

export const accountView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    type: z.enum(ACCOUNT_TYPES),
    currency: z.string(),
    balance: z.string().meta({ description: 'openingBalance + incomes − expenses − transfers out + transfers in; decimal string' }),
    openingBalance: z.string(),
    archived: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Account' });

export type CreateAccountInput = z.output<typeof createAccountBody>;
export type PatchAccountInput = z.output<typeof patchAccountBody>;
export type AccountView = z.output<typeof accountView>;
