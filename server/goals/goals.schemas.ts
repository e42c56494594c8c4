import { z } from 'zod';
import { isoDate, listQuery } from '../shared/http.js';
import { currencySchema, positiveAmountSchema } from '../shared/money.js';

const name = z.string().trim().min(1, 'must not be empty').max(100);
const accountIds = z
  .array(z.uuid({ message: 'must be a UUID' }))
  .min(1, 'must name at least one account')
  .max(20, 'at most 20 accounts')
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat an account')
  .meta({ description: 'Your accounts whose balances count toward the goal (an account may serve several goals)' });

export const createGoalBody = z
  .object({
    name,
    targetAmount: positiveAmountSchema,
    currency: currencySchema.optional().meta({ description: 'Default: your currency' }),
    targetDate: isoDate,
    accountIds,
  })
  .strict();

export const patchGoalBody = z
  .object({ name: name.optional(), targetAmount: positiveAmountSchema.optional(), targetDate: isoDate.optional(), accountIds: accountIds.optional() })
  .strict();

export const listGoalsQuery = z.object({ ...listQuery }).strict();

const missingRate = z.object({ from: z.string(), to: z.string(), date: isoDate });

export const goalView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    targetAmount: z.string(),
    currency: z.string(),
    targetDate: isoDate,
    accountIds: z.array(z.uuid()),
    currentAmount: z.string().meta({ description: "The linked accounts' balances, converted to the goal's currency" }),
    progress: z.string().meta({ description: 'currentAmount / targetAmount, 4 decimals, between 0 and 1', example: '0.4000' }),
    remaining: z.string().meta({ description: 'targetAmount − currentAmount, at least 0' }),
    requiredPerMonth: z.string().meta({ description: 'What to add per month to reach the target by targetDate; the whole remainder once the date has passed' }),
    onTrack: z.boolean().meta({ description: "Reached, or the last 90 days' average monthly net change is at least requiredPerMonth" }),
    projectedDate: isoDate.nullable().meta({ description: "When the last 90 days' pace reaches the target; null when reached or not growing" }),
    achievedAt: z.string().nullable().meta({ description: 'The first time the target was reached; kept after a withdrawal' }),
    missingRates: z.array(missingRate),
    unlinkedAccounts: z
      .array(z.object({ accountId: z.uuid(), reason: z.enum(['archived', 'deleted']), at: z.string() }))
      .meta({ description: 'Accounts removed from the goal because they were archived or deleted' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Goal' });

export type CreateGoalInput = z.output<typeof createGoalBody>;
export type PatchGoalInput = z.output<typeof patchGoalBody>;
export type GoalView = z.output<typeof goalView>;
