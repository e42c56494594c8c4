import fc from 'fast-check';
import { add, compare, currencyDigits, formatAmount, isCurrency, MoneyError, parseAmount, sub, Decimal } from '../../server/shared/money.js';

describe('money', () => {
  it('knows ISO 4217 precision: 2 for USD, 0 for JPY, 3 for BHD', () => {
    expect(currencyDigits('USD')).toBe(2);
    expect(currencyDigits('JPY')).toBe(0);
    expect(currencyDigits('BHD')).toBe(3);
    expect(isCurrency('EUR')).toBe(true);
    expect(isCurrency('XYZ')).toBe(false);
    expect(isCurrency('usd')).toBe(false);
  });

  it('adds 0.10 and 0.20 to exactly 0.30', () => {
    expect(formatAmount(add('0.10', '0.20'), 'USD')).toBe('0.30');
  });

  it('formats with the currency precision', () => {
    expect(formatAmount('1234.5', 'USD')).toBe('1234.50');
    expect(formatAmount('-20', 'USD')).toBe('-20.00');
    expect(formatAmount('1500', 'JPY')).toBe('1500');
    expect(formatAmount('0.5', 'BHD')).toBe('0.500');
    expect(formatAmount(sub('0.10', '0.10'), 'USD')).toBe('0.00');
  });

  it.each([
    [12.5, 'a JSON number'],
    ['1e3', 'an exponent'],
    ['+1.00', 'a leading plus'],
    ['1.001', 'excess precision for USD'],
    ['01.00', 'a leading zero'],
    ['1,00', 'a comma'],
    ['', 'an empty string'],
    [' 1.00', 'white space'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['1.', 'a trailing dot'],
    ['1e15', 'an exponent again'],
    ['1000000000000000', 'a magnitude beyond the ledger'],
  ])('rejects %p (%s)', (value: unknown, _why: string) => {
    expect(() => parseAmount(value, 'USD')).toThrow(MoneyError);
  });

  it('rejects a fraction on JPY and accepts three digits on BHD', () => {
    expect(() => parseAmount('1.5', 'JPY')).toThrow(/JPY allows at most 0/);
    expect(parseAmount('1.125', 'BHD').toString()).toBe('1.125');
  });

  it('rejects an unknown currency', () => {
    expect(() => parseAmount('1.00', 'ABC')).toThrow(MoneyError);
  });

  const cents = fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n });
  const toStr = (c: bigint) => {
    const neg = c < 0n;
    const a = neg ? -c : c;
    return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
  };

  it('adds and subtracts exactly like integer cents (property)', () => {
    fc.assert(
      fc.property(cents, cents, (a, b) => {
        expect(formatAmount(add(toStr(a), toStr(b)), 'USD')).toBe(toStr(a + b));
        expect(formatAmount(sub(toStr(a), toStr(b)), 'USD')).toBe(toStr(a - b));
        expect(compare(toStr(a), toStr(b))).toBe(a < b ? -1 : a > b ? 1 : 0);
      }),
    );
  });

  it('round-trips every valid amount through parse and format (property)', () => {
    fc.assert(
      fc.property(cents, (c) => {
        const s = toStr(c);
        expect(formatAmount(parseAmount(s, 'USD'), 'USD')).toBe(s);
      }),
    );
  });

  it('refuses any amount with more fraction digits than the currency allows (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10 ** 9 }), fc.integer({ min: 1, max: 9 }), (whole, extra) => {
        const s = `${whole}.${'1'.repeat(2 + extra)}`;
        expect(() => parseAmount(s, 'USD')).toThrow(MoneyError);
      }),
    );
  });

  it('sums a thousand 0.01 amounts to exactly 10.00', () => {
    expect(formatAmount(add(...Array.from({ length: 1000 }, () => '0.01')), 'USD')).toBe('10.00');
    expect(new Decimal('0.1').plus('0.2').toString()).toBe('0.3');
  });
});
