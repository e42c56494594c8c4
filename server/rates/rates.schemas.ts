import { z } from 'zod';
import { isoDate, listQuery } from '../shared/http.js';
import { currencySchema } from '../shared/money.js';

/** A rate as stored: positive, at most 12 integer and 12 fraction digits (NUMERIC(24, 12)). */
export const RATE_RE = /^(0|[1-9]\d{0,11})(\.\d{1,12})?$/;

export const rateString = z
  .string({ message: 'must be a decimal string, not a number' })
  .regex(RATE_RE, 'must be a positive decimal string with at most 12 digits after the point, like "1.0842"')
  .refine((v) => /[1-9]/.test(v), 'must be greater than zero')
  .meta({ description: '1 base = rate quote; decimal string, > 0, at most 12 fraction digits', example: '1.0842' });

export const putRateBody = z
  .object({
    base: currencySchema,
    quote: currencySchema,
    date: isoDate,
    rate: rateString,
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.base === b.quote) ctx.addIssue({ code: 'custom', path: ['quote'], message: 'must differ from base' });
  });

export const listRatesQuery = z
  .object({
    ...listQuery,
    base: currencySchema.optional(),
    quote: currencySchema.optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
  })
  .strict()
  .superRefine((q, ctx) => {
    if (q.from && q.to && q.from > q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to' });
  });

export const rateView = z
  .object({
    base: z.string(),
    quote: z.string(),
    date: z.string().meta({ format: 'date' }),
    rate: z.string().meta({ description: '1 base = rate quote, exact decimal string' }),
    source: z.enum(['manual', 'ecb']),
    updatedAt: z.string(),
  })
  .meta({ id: 'ExchangeRate' });

export type PutRateInput = z.output<typeof putRateBody>;
export type ListRatesQuery = z.output<typeof listRatesQuery>;
export type RateView = z.output<typeof rateView>;
