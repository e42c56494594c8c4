import type { Knex } from 'knex';
import { Decimal } from './money.js';

/** A rate that was needed and not stored (reported to the client, never treated as 1). */
export interface MissingRate {
  from: string;
  to: string;
  date: string;
}

/** An amount converted, or the rate that was missing for it. */
export type Conversion = { amount: Decimal } | { missing: MissingRate };

/**
 * Converts `amount` from one currency to another with the rate on or before `date`. The shape of
 * the rates feature's `convert` (server/rates), which budgets and goals are handed by the
 * composition root.
 */
export type Convert = (q: Knex | Knex.Transaction, amount: Decimal | string, from: string, to: string, date: string) => Promise<Conversion>;

/**
 * The conversion while no exchange rate is stored anywhere: the same currency converts to itself,
 * any other is reported missing — never 1:1.
 */
export const convertWithoutRates: Convert = (_q, amount, from, to, date) =>
  Promise.resolve(from === to ? { amount: new Decimal(amount) } : { missing: { from, to, date } });

/** Each missing rate once, in a stable order. */
export function dedupeMissing(list: readonly MissingRate[]): MissingRate[] {
  const seen = new Map<string, MissingRate>();
  for (const m of list) seen.set(`${m.from}/${m.to}/${m.date}`, m);
  return [...seen.values()].sort((a, b) => (a.from + a.to + a.date).localeCompare(b.from + b.to + b.date));
}
