/**
 * Benchmark data in bulk (`npm run seed:bench`): N users with two years of transactions each,
 * streamed into PostgreSQL with COPY, deterministic for a seed (same seed and end date → the same
 * rows, ids included). Never used by tests for correctness.
 *
 * Shape: only the primary rows come from this process (users, categories, accounts, budgets,
 * goals, transactions). Everything the ledger derives from them is computed afterwards in SQL, one
 * `INSERT … SELECT` / `UPDATE … FROM` per derived table (see DERIVED below): entries from the
 * headers, version 1 of each transaction, account balances, budget running totals. A new derived
 * table (a per-day rollup, say) is one more statement in that list, and `npm run ledger:verify`
 * proves the result.
 *
 * Every seeded user logs in with BENCH_PASSWORD (documented in README and load-tests/): the load
 * scripts' virtual users sign in as `bench-<n>@bench.numina.local`, n = 1..users.
 */
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DEFAULT_CATEGORIES } from '../server/categories/index.js';
import { dailyTotalsInserts } from '../server/transactions/index.js';
import { benchEmail } from './bench-users.js';

export { BENCH_PASSWORD, benchEmail } from './bench-users.js';

export interface BenchSeedOptions {
  users: number;
  /** Total over all users (spread evenly). */
  transactions: number;
  seed: number;
  /** Last day of the two years of data (YYYY-MM-DD). */
  until: string;
  /** Argon2id hash of BENCH_PASSWORD (hashed once by the caller; every user shares it). */
  passwordHash: string;
}

export interface BenchSeedResult {
  users: number;
  accounts: number;
  transactions: number;
  entries: number;
  budgets: number;
  goals: number;
}

/** sfc32: a small, fast, well-distributed PRNG; seeded, so the data is the same on every run. */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ (seed * 31);
  let c = 0xb7e15162;
  let d = seed | 0;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next();
  return next;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A version-4-shaped UUID from the PRNG (deterministic, unlike gen_random_uuid()). */
function uuid(rand: () => number): string {
  const b = new Array<number>(16);
  for (let i = 0; i < 16; i += 4) {
    const x = (rand() * 4294967296) >>> 0;
    b[i] = x & 255;
    b[i + 1] = (x >>> 8) & 255;
    b[i + 2] = (x >>> 16) & 255;
    b[i + 3] = x >>> 24;
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.map((x) => HEX[x]);
  return `${h[0]}${h[1]}${h[2]}${h[3]}-${h[4]}${h[5]}-${h[6]}${h[7]}-${h[8]}${h[9]}-${h[10]}${h[11]}${h[12]}${h[13]}${h[14]}${h[15]}`;
}

const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** Cents → "12.34" (amounts are integers of minor units here: exact, no floats). */
const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** The categories a newly registered user has (the registration's own list). */
const CATEGORY_NAMES = DEFAULT_CATEGORIES.map((c) => [c.name, c.kind] as const);
type CategoryName = 'Salary' | 'Other income' | 'Food' | 'Rent' | 'Transport' | 'Utilities' | 'Entertainment' | 'Health' | 'Shopping' | 'Other';

/** Checking, savings, credit card, wallet (USD), a EUR and a GBP account: three currencies. */
const ACCOUNTS = [
  { key: 'checking', name: 'Checking', type: 'bank', currency: 'USD', opening: 250000 },
  { key: 'savings', name: 'Savings', type: 'bank', currency: 'USD', opening: 1000000 },
  { key: 'card', name: 'Credit card', type: 'credit', currency: 'USD', opening: 0 },
  { key: 'wallet', name: 'Wallet', type: 'cash', currency: 'USD', opening: 20000 },
  { key: 'eur', name: 'Euro account', type: 'bank', currency: 'EUR', opening: 100000 },
  { key: 'gbp', name: 'Pound account', type: 'bank', currency: 'GBP', opening: 50000 },
] as const;
type AccountKey = (typeof ACCOUNTS)[number]['key'];

export const BUDGETED: readonly CategoryName[] = ['Food', 'Rent', 'Transport', 'Utilities', 'Entertainment'];

/** What a day-to-day transaction can be: [weight, account, category, notes, min cents, max cents]. */
const EVERYDAY: [number, AccountKey, CategoryName, string, number, number][] = [
  [30, 'card', 'Food', 'Groceries', 1500, 14000],
  [12, 'checking', 'Food', 'Supermarket', 2000, 9000],
  [12, 'wallet', 'Transport', 'Bus ticket', 250, 600],
  [8, 'card', 'Entertainment', 'Cinema', 1200, 4000],
  [8, 'card', 'Shopping', 'Online order', 1000, 25000],
  [4, 'checking', 'Health', 'Pharmacy', 500, 6000],
  [8, 'eur', 'Food', 'Café in Berlin', 300, 2500],
  [5, 'gbp', 'Transport', 'London tube', 280, 1200],
  [3, 'wallet', 'Other', 'Market', 200, 3000],
];
const EVERYDAY_TOTAL = EVERYDAY.reduce((n, e) => n + e[0], 0);

interface TxRow {
  id: string;
  type: 'income' | 'expense' | 'transfer';
  account: AccountKey;
  cents: number;
  to?: AccountKey;
  toCents?: number;
  day: number;
  category?: CategoryName;
  notes: string;
}

/** One user's transactions: the monthly rhythm first (salary, rent, bills, card payment, saving, FX), then everyday spending. */
function userTransactions(rand: () => number, count: number, days: number): TxRow[] {
  const out: TxRow[] = [];
  const months = Math.ceil(days / 30.44);
  const monthly: Omit<TxRow, 'id'>[] = [];
  for (let m = 0; m < months; m++) {
    const d0 = Math.floor(m * 30.44);
    const at = (k: number) => Math.min(days - 1, d0 + k);
    monthly.push(
      { type: 'income', account: 'checking', cents: 420000, day: at(0), category: 'Salary', notes: 'Salary' },
      { type: 'expense', account: 'checking', cents: 145000, day: at(1), category: 'Rent', notes: 'Rent' },
      { type: 'expense', account: 'checking', cents: 6000 + Math.floor(rand() * 6000), day: at(4), category: 'Utilities', notes: 'Electricity and water' },
      { type: 'transfer', account: 'checking', to: 'card', cents: 60000, toCents: 60000, day: at(19), notes: 'Credit card payment' },
      { type: 'transfer', account: 'checking', to: 'savings', cents: 50000, toCents: 50000, day: at(2), notes: 'Monthly saving' },
      { type: 'transfer', account: 'checking', to: 'eur', cents: 20000, toCents: 18400, day: at(9), notes: 'Top up euro account' },
      { type: 'transfer', account: 'checking', to: 'wallet', cents: 10000, toCents: 10000, day: at(14), notes: 'Cash withdrawal' },
    );
  }
  for (const t of monthly.slice(0, Math.min(monthly.length, Math.floor(count / 2)))) out.push({ id: '', ...t });
  while (out.length < count) {
    let r = rand() * EVERYDAY_TOTAL;
    let e = EVERYDAY[0];
    for (const cand of EVERYDAY) {
      if (r < cand[0]) {
        e = cand;
        break;
      }
      r -= cand[0];
    }
    out.push({ id: '', type: 'expense', account: e[1], category: e[2], notes: e[3], cents: e[4] + Math.floor(rand() * (e[5] - e[4])), day: Math.floor(rand() * days) });
  }
  for (const t of out) t.id = uuid(rand);
  return out;
}

/** COPY text format: tab-separated, \N for NULL (our values never hold tabs, newlines or backslashes). */
const field = (v: string | null | undefined) => (v === null || v === undefined ? '\\N' : v);

async function copyRows(client: pg.ClientBase, sql: string, rows: Iterable<string> | AsyncIterable<string>): Promise<void> {
  const stream = client.query(copyFrom(sql));
  // Lines batched into ~64 KB chunks: one write per line would cost more than the COPY itself.
  const source = (async function* () {
    let buf = '';
    for await (const line of rows) {
      buf += line;
      if (buf.length > 65536) {
        yield buf;
        buf = '';
      }
    }
    if (buf) yield buf;
  })();
  await pipeline(source, stream);
}

/**
 * What the ledger derives from the transaction headers, in SQL after the COPY (one statement per
 * derived table). Keep each consistent with what the services write per request, and with the
 * checks `npm run ledger:verify` runs.
 */
export const DERIVED: { table: string; sql: string }[] = [
  {
    table: 'entries',
    sql: `INSERT INTO entries (transaction_id, user_id, account_id, currency, amount)
          SELECT id, user_id, account_id, currency, CASE WHEN type = 'income' THEN amount ELSE -amount END FROM seed_new_transactions
          UNION ALL
          SELECT id, user_id, to_account_id, to_currency, to_amount FROM seed_new_transactions WHERE type = 'transfer'
          ORDER BY 1, 3`,
  },
  {
    table: 'transaction_versions',
    sql: `INSERT INTO transaction_versions (transaction_id, user_id, version, action, actor_id, at, before, after)
          SELECT id, user_id, 1, 'create', user_id, created_at, NULL,
                 jsonb_build_object(
                   'id', id, 'accountId', account_id, 'type', type, 'amount', round(amount, 2)::text, 'currency', currency,
                   'date', to_char(date, 'YYYY-MM-DD'), 'categoryId', category_id, 'notes', notes, 'toAccountId', to_account_id,
                   'toAmount', round(to_amount, 2)::text, 'toCurrency', to_currency, 'recurringId', recurring_id,
                   'createdAt', c.iso, 'updatedAt', c.iso)
            FROM seed_new_transactions
            CROSS JOIN LATERAL (SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS iso) c
           ORDER BY created_at, id`,
  },
  {
    table: 'accounts (balance)',
    sql: `UPDATE accounts a SET balance = a.opening_balance + s.total
            FROM (SELECT account_id, sum(amount) AS total FROM entries WHERE user_id IN (SELECT id FROM seed_new_users) GROUP BY account_id) s
           WHERE s.account_id = a.id`,
  },
  ...dailyTotalsInserts('seed_new_transactions', 'true').map((sql, n) => ({ table: n === 0 ? 'ledger_daily_accounts' : 'ledger_daily_categories', sql })),
  {
    table: 'budget_totals',
    sql: `INSERT INTO budget_totals (budget_id, period_start, currency, total)
          SELECT b.id, date_trunc('month', t.date)::date, t.currency, sum(t.amount)
            FROM budgets b JOIN seed_new_transactions t ON t.user_id = b.user_id AND t.category_id = b.category_id AND t.type = 'expense'
           WHERE b.period = 'monthly'
           GROUP BY 1, 2, 3`,
  },
];

/** Indexes rebuilt after the load: building one index over 1M rows is far cheaper than 1M index inserts. */
const REBUILT_INDEX_TABLES = ['transactions', 'entries', 'transaction_versions'];

/**
 * Writes the data in one database transaction on `client` (all or nothing). The caller has run
 * the migrations. Emails are `bench-<n>@bench.numina.local`: a second run with the same user
 * count fails on the unique email (seed a fresh database).
 */
export async function seedBench(client: pg.ClientBase, opts: BenchSeedOptions, log: (line: string) => void = () => {}): Promise<BenchSeedResult> {
  const rand = prng(opts.seed);
  const untilMs = Date.parse(`${opts.until}T00:00:00Z`);
  if (Number.isNaN(untilMs)) throw new Error(`--until must be a date (YYYY-MM-DD), not ${opts.until}`);
  const days = 730;
  const startMs = untilMs - (days - 1) * DAY_MS;
  const createdAt = new Date(startMs - DAY_MS).toISOString();
  const perUser = Math.floor(opts.transactions / opts.users);
  const extra = opts.transactions - perUser * opts.users;

  const users = Array.from({ length: opts.users }, (_, i) => {
    const id = uuid(rand);
    return {
      n: i + 1,
      id,
      categories: new Map(CATEGORY_NAMES.map(([name]) => [name, uuid(rand)])),
      accounts: new Map(ACCOUNTS.map((a) => [a.key as AccountKey, uuid(rand)])),
      budgets: BUDGETED.map(() => uuid(rand)),
      goals: [uuid(rand), uuid(rand)],
      count: perUser + (i < extra ? 1 : 0),
      seed: (rand() * 4294967296) >>> 0,
    };
  });

  await client.query('BEGIN');
  try {
    // Triggers (the deferred ledger FKs among them) are not fired for rows this load writes: the
    // generator builds every reference itself, and ledger:verify checks the result. That needs a
    // superuser; without one the load keeps its triggers (slower: every FK checked at commit).
    await client.query('SAVEPOINT replica');
    try {
      await client.query(`SET LOCAL session_replication_role = replica`);
      await client.query('RELEASE SAVEPOINT replica');
    } catch {
      await client.query('ROLLBACK TO SAVEPOINT replica');
      log('not a superuser: loading with triggers and foreign-key checks on');
    }
    await client.query(`SET LOCAL maintenance_work_mem = '256MB'`);
    // The derived tables sort and hash a million rows: in memory, not in temp files.
    await client.query(`SET LOCAL work_mem = '256MB'`);
    await client.query(`SET LOCAL synchronous_commit = off`);
    const t0 = Date.now();
    const indexes = (
      await client.query<{ name: string; def: string }>(
        `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
          WHERE t.relname = ANY($1) AND t.relnamespace = 'public'::regnamespace
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)`,
        [REBUILT_INDEX_TABLES],
      )
    ).rows;
    for (const ix of indexes) await client.query(`DROP INDEX ${ix.name}`);

    await copyRows(
      client,
      'COPY users (id, email, name, currency, time_zone, password_hash, email_verified_at, created_at, updated_at) FROM STDIN',
      users.map((u) => `${u.id}\t${benchEmail(u.n)}\tBench user ${u.n}\tUSD\tUTC\t${opts.passwordHash}\t${createdAt}\t${createdAt}\t${createdAt}\n`),
    );
    await client.query('CREATE TEMP TABLE seed_new_users ON COMMIT DROP AS SELECT id FROM users WHERE email LIKE $1', ['bench-%@bench.numina.local']);
    await copyRows(
      client,
      'COPY categories (id, user_id, name, kind, created_at, updated_at) FROM STDIN',
      users.flatMap((u) => CATEGORY_NAMES.map(([name, kind]) => `${u.categories.get(name)}\t${u.id}\t${name}\t${kind}\t${createdAt}\t${createdAt}\n`)),
    );
    await copyRows(
      client,
      'COPY accounts (id, user_id, name, type, currency, opening_balance, balance, created_at, updated_at) FROM STDIN',
      users.flatMap((u) =>
        ACCOUNTS.map((a) => `${u.accounts.get(a.key)}\t${u.id}\t${a.name}\t${a.type}\t${a.currency}\t${money(a.opening)}\t${money(a.opening)}\t${createdAt}\t${createdAt}\n`),
      ),
    );
    await copyRows(
      client,
      'COPY budgets (id, user_id, category_id, period, amount, currency, thresholds, created_at, updated_at) FROM STDIN',
      users.flatMap((u) =>
        BUDGETED.map((c, i) => `${u.budgets[i]}\t${u.id}\t${u.categories.get(c)}\tmonthly\t${c === 'Rent' ? '1500.00' : '400.00'}\tUSD\t{0.8,1}\t${createdAt}\t${createdAt}\n`),
      ),
    );
    const targetDate = isoDay(untilMs + 365 * DAY_MS);
    await copyRows(
      client,
      'COPY goals (id, user_id, name, target_amount, currency, target_date, created_at, updated_at) FROM STDIN',
      users.flatMap((u) => [
        `${u.goals[0]}\t${u.id}\tEmergency fund\t100000.00\tUSD\t${targetDate}\t${createdAt}\t${createdAt}\n`,
        `${u.goals[1]}\t${u.id}\tHoliday\t90000.00\tUSD\t${targetDate}\t${createdAt}\t${createdAt}\n`,
      ]),
    );
    await copyRows(
      client,
      'COPY goal_accounts (goal_id, account_id, user_id) FROM STDIN',
      users.flatMap((u) => [`${u.goals[0]}\t${u.accounts.get('savings')}\t${u.id}\n`, `${u.goals[1]}\t${u.accounts.get('eur')}\t${u.id}\n`]),
    );

    for (const name of [...BUDGETED, ...EVERYDAY.map((e) => e[2])]) {
      if (!users[0]?.categories.has(name)) throw new Error(`seed:bench: "${name}" is not among the default categories`);
    }
    const currencyOf = new Map<AccountKey, string>(ACCOUNTS.map((a) => [a.key, a.currency]));
    let transactions = 0;
    await copyRows(
      client,
      'COPY transactions (id, user_id, type, account_id, currency, amount, to_account_id, to_currency, to_amount, date, category_id, notes, created_at, updated_at) FROM STDIN',
      (function* () {
        for (const u of users) {
          const rows = userTransactions(prng(u.seed), u.count, days);
          for (let i = 0; i < rows.length; i++) {
            const t = rows[i];
            const created = new Date(startMs + t.day * DAY_MS + 12 * 3_600_000 + (i % 3_600_000)).toISOString();
            transactions++;
            yield `${t.id}\t${u.id}\t${t.type}\t${u.accounts.get(t.account)}\t${currencyOf.get(t.account)}\t${money(t.cents)}\t${field(t.to && u.accounts.get(t.to))}\t${field(
              t.to && currencyOf.get(t.to),
            )}\t${field(t.toCents === undefined ? null : money(t.toCents))}\t${isoDay(startMs + t.day * DAY_MS)}\t${field(t.category && u.categories.get(t.category))}\t${t.notes}\t${created}\t${created}\n`;
          }
        }
      })(),
    );
    log(`copied ${transactions} transactions for ${users.length} users in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // A view, not a copy: the derived statements read the new users' rows straight from the table.
    // Fresh statistics, or the planner takes the new tables for empty and joins a million rows in a nested loop.
    await client.query('ANALYZE seed_new_users, users, accounts, categories, budgets, transactions');
    await client.query('CREATE TEMP VIEW seed_new_transactions AS SELECT t.* FROM transactions t WHERE t.user_id IN (SELECT id FROM seed_new_users)');

    let entries = 0;
    for (const d of DERIVED) {
      const t1 = Date.now();
      const r = await client.query(d.sql);
      if (d.table === 'entries') entries = r.rowCount ?? 0;
      log(`${d.table}: ${r.rowCount} rows in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    }
    const t2 = Date.now();
    // With triggers on (no superuser), the deferred FK checks run now: an index cannot be built under pending ones.
    await client.query('SET CONSTRAINTS ALL IMMEDIATE');
    for (const ix of indexes) await client.query(ix.def);
    log(`rebuilt ${indexes.length} indexes in ${((Date.now() - t2) / 1000).toFixed(1)} s`);
    await client.query('DROP VIEW seed_new_transactions');
    await client.query('COMMIT');
    await client.query(`ANALYZE users, accounts, categories, transactions, entries, transaction_versions, budgets, budget_totals, goals, goal_accounts`);
    return { users: users.length, accounts: users.length * ACCOUNTS.length, transactions, entries, budgets: users.length * BUDGETED.length, goals: users.length * 2 };
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}
