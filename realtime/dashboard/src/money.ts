/**
 * Exact decimal strings in the browser (docs/api.md: money is a decimal string, never a Number):
 * sums through BigInt at the largest scale present, display with digit grouping.
 */
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

function parts(value: string): { negative: boolean; int: string; frac: string } {
  const m = DECIMAL.exec(value.trim());
  if (!m) throw new Error(`not a decimal string: ${value}`);
  return { negative: m[1] === '-', int: m[2], frac: m[3] ?? '' };
}

/** The exact sum of decimal strings, with as many fraction digits as the longest of them. */
export function sumDecimals(values: readonly string[]): string {
  const parsed = values.map(parts);
  const scale = Math.max(0, ...parsed.map((p) => p.frac.length));
  let total = 0n;
  for (const p of parsed) total += (p.negative ? -1n : 1n) * BigInt(p.int + p.frac.padEnd(scale, '0'));
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return `${negative ? '-' : ''}${int}${scale ? `.${frac}` : ''}`;
}

/** `-12345.60` → `-12,345.60` (grouping only; the digits are the server's). */
export function groupDigits(value: string): string {
  const p = parts(value);
  return `${p.negative ? '−' : ''}${p.int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${p.frac ? `.${p.frac}` : ''}`;
}

export function formatMoney(amount: string, currency: string): string {
  return `${groupDigits(amount)} ${currency}`;
}

export function isNegative(value: string): boolean {
  return parts(value).negative && /[1-9]/.test(parts(value).int + parts(value).frac);
}

/** A ratio string ("0.8125") as a percentage for display and bar widths (a ratio, not money). */
export function percent(ratio: string): number {
  const n = Number(ratio);
  return Number.isFinite(n) ? Math.round(n * 1000) / 10 : 0;
}
