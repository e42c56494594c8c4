import fc from 'fast-check';
import { useTestApp, useUsers } from '../helpers/app.js';
import { Decimal } from '../../server/shared/money.js';
import { checkLedger } from '../../server/transactions/index.js';
import { balanceOf, createAccount, type Json } from '../helpers/ledger.js';

/**
 * Property: for any sequence of creates, updates and deletes of incomes, expenses and transfers
 * (same- and cross-currency), every account's balance equals its opening balance plus the sum a
 * simple model computes, the database's stored balances equal opening + Σ entries, and each
 * transaction's entries are exactly its legs (checkLedger).
 */
const t = useTestApp();
const [u] = useUsers(t, 1);

const TYPES = ['income', 'expense', 'transfer'] as const;
const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

const leg = fc.record({
  type: fc.constantFrom(...TYPES),
  from: fc.integer({ min: 0, max: 2 }),
  to: fc.integer({ min: 0, max: 2 }),
  cents: fc.integer({ min: 1, max: 1_000_000 }),
  toCents: fc.integer({ min: 1, max: 1_000_000 }),
});
const op = fc.oneof(
  { weight: 3, arbitrary: leg.map((l) => ({ kind: 'create' as const, ...l })) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(), leg).map(([target, l]) => ({ kind: 'update' as const, target, ...l })) },
  { weight: 1, arbitrary: fc.nat().map((target) => ({ kind: 'delete' as const, target })) },
);

describe('ledger property', () => {
  it('keeps every balance equal to opening + the recomputed sum of entries, whatever the sequence', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        // Two USD accounts and one EUR account, fresh for each run.
        const accounts: Json[] = [
          await createAccount(t, u, { name: 'P-USD-1', currency: 'USD', openingBalance: '100.00' }),
          await createAccount(t, u, { name: 'P-USD-2', currency: 'USD', openingBalance: '0' }),
          await createAccount(t, u, { name: 'P-EUR', currency: 'EUR', openingBalance: '-50.25' }),
        ];
        const model = new Map<string, { account: number; amount: Decimal }[]>();
        const bodyOf = (l: { type: (typeof TYPES)[number]; from: number; to: number; cents: number; toCents: number }) => {
          const to = l.to === l.from ? (l.from + 1) % 3 : l.to;
          const cross = accounts[l.from].currency !== accounts[to].currency;
          const body: Record<string, unknown> = { accountId: accounts[l.from].id, type: l.type, amount: money(l.cents), date: '2026-11-10' };
          let postings = [{ account: l.from, amount: new Decimal(money(l.cents)).times(l.type === 'income' ? 1 : -1) }];
          if (l.type === 'transfer') {
            body.toAccountId = accounts[to].id;
            if (cross) body.toAmount = money(l.toCents);
            postings = [...postings, { account: to, amount: new Decimal(cross ? money(l.toCents) : money(l.cents)) }];
          }
          return { body, postings };
        };
        for (const o of ops) {
          const ids = [...model.keys()];
          if (o.kind === 'create') {
            const { body, postings } = bodyOf(o);
            const res = await t.api('/transactions', { method: 'POST', token: u.accessToken, json: body });
            expect(res.status).toBe(201);
            model.set(((await res.json()) as Json).id, postings);
          } else if (ids.length === 0) {
            continue;
          } else if (o.kind === 'update') {
            const id = ids[o.target % ids.length];
            const { body, postings } = bodyOf(o);
            const res = await t.api(`/transactions/${id}`, { method: 'PUT', token: u.accessToken, json: body });
            expect(res.status).toBe(200);
            model.set(id, postings);
          } else {
            const id = ids[o.target % ids.length];
            const res = await t.api(`/transactions/${id}`, { method: 'DELETE', token: u.accessToken });
            expect(res.status).toBe(204);
            model.delete(id);
          }
        }
        for (const [i, a] of accounts.entries()) {
          const sum = [...model.values()].flat().filter((p) => p.account === i).reduce((s, p) => s.plus(p.amount), new Decimal(a.openingBalance as string));
          expect(await balanceOf(t, u, a.id)).toBe(sum.toFixed(2));
        }
        const check = await checkLedger(t.db, { userId: u.id });
        expect(check).toMatchObject({ ok: true, balanceMismatches: [], entryMismatches: [] });
        // Every transfer's legs: −amount on the source, +toAmount on the destination.
        const legs = await t.db('entries as e').join('transactions as x', 'x.id', 'e.transaction_id').where('x.type', 'transfer').where('x.user_id', u.id).select('x.id', 'x.amount', 'x.to_amount', 'x.account_id', 'e.account_id as leg_account', 'e.amount as leg_amount');
        for (const l of legs) {
          expect(new Decimal(l.leg_amount).eq(l.leg_account === l.account_id ? new Decimal(l.amount).neg() : new Decimal(l.to_amount))).toBe(true);
        }
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
