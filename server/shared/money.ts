import { Decimal as DecimalJs } from 'decimal.js';
import cc from 'currency-codes';
import { z } from 'zod';

/**
 * Exact money. Amounts travel as decimal strings, are computed with decimal.js and are stored as
 * PostgreSQL NUMERIC. No JavaScript number ever holds money: parse() refuses them.
 */
export const Decimal = DecimalJs.clone({ precision: 60, rounding: DecimalJs.ROUND_HALF_EVEN, toExpNeg: -100, toExpPos: 100 });
export type Decimal = InstanceType<typeof Decimal>;

const supported = new Set(Intl.supportedValuesOf('currency'));
const DIGITS = new Map<string, number>();
for (const code of cc.codes()) {
  const entry = cc.code(code);
  // ISO 4217 gives the minor unit; codes ICU does not know (or funds without one) are not offered.
  if (entry && supported.has(code) && Number.isInteger(entry.digits)) DIGITS.set(code, entry.digits);
}

/** ISO 4217 codes the service accepts, sorted. */
export const CURRENCIES: readonly string[] = [...DIGITS.keys()].sort();

export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && DIGITS.has(code);
}

/** Minor-unit digits (2 for USD, 0 for JPY, 3 for BHD). */
export function currencyDigits(currency: string): number {
  const d = DIGITS.get(currency);
  if (d === undefined) throw new MoneyError(`unknown currency ${currency}`);
  return d;
}

export class MoneyError extends Error {}

const AMOUNT_RE = /^-?(0|[1-9]\d{0,17})(\.\d+)?$/;

/** Largest magnitude accepted: NUMERIC(20, 4) in the database holds below 10^16. */
const MAX = new Decimal('1e15');

/**
 * Parses a decimal string for `currency`. Rejects numbers, exponents, leading '+', excess fraction
 * digits for the currency, and magnitudes the ledger cannot hold.
 */
export function parseAmount(value: unknown, currency: string): Decimal {
  if (typeof value !== 'string') throw new MoneyError('must be a decimal string, not a number');
  if (!AMOUNT_RE.test(value)) throw new MoneyError('must be a decimal string like "12.34"');
  const digits = currencyDigits(currency);
  const fraction = value.split('.')[1] ?? '';
  if (fraction.length > digits) {
    throw new MoneyError(`${currency} allows at most ${digits} fraction digit${digits === 1 ? '' : 's'}`);
  }
  const d = new Decimal(value);
  if (d.abs().gte(MAX)) throw new MoneyError('is too large');
  return d;
}

/** The wire form: exactly the currency's fraction digits ("0.30", "-20.00", "1500"). */
export function formatAmount(value: Decimal | string, currency: string): string {
  const d = typeof value === 'string' ? new Decimal(value) : value;
  const s = d.toFixed(currencyDigits(currency), Decimal.ROUND_HALF_EVEN);
  return s === '-0' || /^-0\.0+$/.test(s) ? s.slice(1) : s;
}

export function add(...values: (Decimal | string)[]): Decimal {
  return values.reduce<Decimal>((acc, v) => acc.plus(v), new Decimal(0));
}

export function sub(a: Decimal | string, b: Decimal | string): Decimal {
  return new Decimal(a).minus(b);
}

export function compare(a: Decimal | string, b: Decimal | string): -1 | 0 | 1 {
  return new Decimal(a).comparedTo(b) as -1 | 0 | 1;
}

/** zod: an ISO 4217 code the service supports. */
export const currencySchema = z
  .string()
  .refine(isCurrency, { message: 'must be a supported ISO 4217 currency code' })
  .meta({ description: 'ISO 4217 currency code', example: 'USD' });

/** zod: a money string's shape; precision against the currency is checked with `checkAmount`. */
export const amountSchema = z
  .string({ message: 'must be a decimal string, not a number' })
  .regex(AMOUNT_RE, 'must be a decimal string like "12.34"')
  .meta({ description: 'Decimal string, exact; never a JSON number', example: '12.34' });

/**
 * The one "positive amount" rule: exactly representable in `currency` and greater than zero.
 * Throws MoneyError (the caller turns it into a 400 naming the field).
 */
export function parsePositiveAmount(value: string, currency: string): Decimal {
  const d = parseAmount(value, currency);
  if (d.lte(0)) throw new MoneyError('must be greater than zero');
  return d;
}

/** zod: a positive money string's shape (precision against the currency comes later, with parsePositiveAmount). */
export const positiveAmountSchema = amountSchema.refine((v) => new Decimal(v).gt(0), 'must be greater than zero');

/** zod refinement helper: adds an issue at `path` when `amount` does not fit `currency`. */
export function checkAmount(ctx: z.RefinementCtx, amount: string | undefined, currency: string | undefined, path: (string | number)[], opts: { positive?: boolean } = {}): void {
  if (amount === undefined || currency === undefined || !isCurrency(currency)) return;
  try {
    if (opts.positive) parsePositiveAmount(amount, currency);
    else parseAmount(amount, currency);
  } catch (e) {
    ctx.addIssue({ code: 'custom', path, message: (e as Error).message });
  }
}
