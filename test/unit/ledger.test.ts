import { decodeCursor, encodeCursor, isDateString, isUuid } from '../../server/shared/cursor.js';
import { idempotencyKeyOf } from '../../server/shared/idempotency.js';
import { AppError } from '../../server/shared/errors.js';
import { neutraliseFormula, transactionBody } from '../../server/transactions/index.js';

describe('CSV formula neutralisation', () => {
  it.each([
    ['=SUM(A1:A9)', "'=SUM(A1:A9)"],
    ['+1', "'+1"],
    ['-2+3', "'-2+3"],
    ['@cmd', "'@cmd"],
    ['\t=1', "'\t=1"],
    ['\r=1', "'\r=1"],
    ['\tplain', "'\tplain"],
    ['\rplain', "'\rplain"],
    ['\nplain', "'\nplain"],
    ['\uFF1DSUM(A1:A9)', "'\uFF1DSUM(A1:A9)"],
    ['\uFF0B1', "'\uFF0B1"],
    ['\uFF0D1', "'\uFF0D1"],
    ['\uFF20cmd', "'\uFF20cmd"],
    // LibreOffice's CSV import can trim spaces before it evaluates formulas.
    [' =1+1', "' =1+1"],
  ])('prefixes %j with an apostrophe', (input, expected) => {
    expect(neutraliseFormula(input)).toBe(expected);
  });

  it.each([['groceries'], ['12.50'], ['a=b'], ['x\uFF1D1'], [' plain'], [''], ["'already"]])('leaves %j as it is', (input) => {
    expect(neutraliseFormula(input)).toBe(input);
  });

  it('leaves an empty cell empty', () => {
    expect(neutraliseFormula(null)).toBeNull();
  });
});

describe('keyset cursors', () => {
  it('round-trip the sort key of the last row', () => {
    const c = encodeCursor(['2026-11-01', '1b4e28ba-2fa1-11d2-883f-0016d3cca427']);
    expect(decodeCursor(c, [isDateString, isUuid])).toEqual(['2026-11-01', '1b4e28ba-2fa1-11d2-883f-0016d3cca427']);
  });

  it.each([
    ['not base64 json', 'garbage'],
    ['the wrong arity', encodeCursor(['2026-11-01'])],
    ['a value failing its check', encodeCursor(['2026-11-01', 'x'])],
    ['a date that is not in the calendar', encodeCursor(['2026-02-30', '1b4e28ba-2fa1-11d2-883f-0016d3cca427'])],
    ['an object', Buffer.from('{"a":1}').toString('base64url')],
  ])('rejects %s with a 400 on query.cursor', (_l, c) => {
    let err: unknown;
    try {
      decodeCursor(c, [isDateString, isUuid]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ status: 400, errors: [{ path: 'query.cursor' }] });
  });
});

describe('Idempotency-Key header', () => {
  it('accepts 1–255 visible ASCII characters and reports absence as undefined', () => {
    expect(idempotencyKeyOf(undefined)).toBeUndefined();
    expect(idempotencyKeyOf('abc-123_XYZ:~')).toBe('abc-123_XYZ:~');
    expect(idempotencyKeyOf('k'.repeat(255))).toHaveLength(255);
  });

  it.each([[''], ['has space'], ['k'.repeat(256)], ['caf\u00e9']])('rejects %j with 400', (key) => {
    expect(() => idempotencyKeyOf(key)).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('transaction body shape', () => {
  const base = { accountId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', type: 'expense', amount: '1.00', date: '2026-11-01' };
  it('accepts a minimal expense and a transfer with toAmount', () => {
    expect(transactionBody.safeParse(base).success).toBe(true);
    expect(transactionBody.safeParse({ ...base, type: 'transfer', toAccountId: '2b4e28ba-2fa1-11d2-883f-0016d3cca427', toAmount: '3' }).success).toBe(true);
  });

  it.each([
    ['a number amount', { ...base, amount: 1 }],
    ['a zero amount', { ...base, amount: '0' }],
    ['a negative amount', { ...base, amount: '-1.00' }],
    ['29 February in a common year', { ...base, date: '2026-02-29' }],
    ['a transfer to itself', { ...base, type: 'transfer', toAccountId: base.accountId }],
  ])('refuses %s', (_l, body) => {
    expect(transactionBody.safeParse(body).success).toBe(false);
  });
});
