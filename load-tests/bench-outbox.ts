/**
 * Write throughput of the outbox alone: `writers` concurrent writers, each committing transactions
 * that publish two events (a transaction.created and a balance.updated, as a ledger write does),
 * for `seconds`, on one pool of 20 (as a server instance), with one LISTEN connection open (as a
 * realtime instance). Compares where the realtime signal is sent:
 *   inside — `pg_notify` inside the writing transaction (the code before the signal left it)
 *   after  — the app's after-commit signals (server/shared/realtime-signals.ts)
 *   npx tsx load-tests/bench-outbox.ts [seconds=20] [writers=100] [inside|after|both=both]
 * Uses a fresh database on BENCH_ADMIN_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
 */
import os from 'node:os';
import pg from 'pg';
import { systemClock } from '../server/shared/clock.ts';
import { createDb, migrateLatest } from '../server/shared/db.ts';
import { createLogger } from '../server/shared/logger.ts';
import { createOutbox } from '../server/shared/outbox.ts';
import { createSignals, EVENTS_CHANNEL } from '../server/shared/realtime-signals.ts';
import { createBenchDatabase, summarize } from './lib.ts';

const seconds = Number(process.argv[2] ?? 20);
const writers = Number(process.argv[3] ?? 100);
const which = process.argv[4] ?? 'both';
const modes = which === 'both' ? ['inside', 'after', 'inside', 'after'] : [which];

const bench = await createBenchDatabase();
const db = createDb(bench.url, 20);
const listener = new pg.Client({ connectionString: bench.url });
try {
  await migrateLatest(db);
  await listener.connect();
  await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
  let notified = 0;
  listener.on('notification', () => notified++);
  const users: string[] = [];
  for (let i = 0; i < writers; i++) users.push((await db('users').insert({ email: `outbox-bench-${i}@example.com` }).returning('id'))[0].id);

  const signals = createSignals({ db, logger: createLogger('warn') });
  const after = createOutbox({ clock: systemClock, signals });
  const bare = createOutbox({ clock: systemClock, signals: { eventsCommitted: () => {} } });

  console.log(`bench-outbox: ${writers} writers, ${seconds} s per run, pool 20, ${os.cpus().length} cores, node ${process.version}`);
  console.log('| signal | commits | commits/s | p50 ms | p95 ms | p99 ms | notifications received |');
  console.log('|---|---|---|---|---|---|---|');
  for (const mode of modes) {
    notified = 0;
    const latencies: number[] = [];
    const until = Date.now() + seconds * 1000;
    const started = Date.now();
    await Promise.all(
      users.map(async (userId, i) => {
        while (Date.now() < until) {
          const t0 = performance.now();
          await db.transaction(async (trx) => {
            const outbox = mode === 'inside' ? bare : after;
            const a = await outbox.publish(trx, userId, 'transaction.created', { transaction: { id: `t-${i}` } });
            const b = await outbox.publish(trx, userId, 'balance.updated', { accountId: `a-${i}`, balance: '1.00', currency: 'USD' });
            if (mode === 'inside') {
              for (const seq of [a.seq, b.seq]) await trx.raw('SELECT pg_notify(?, ?)', [EVENTS_CHANNEL, JSON.stringify({ userId, seq })]);
            }
          });
          latencies.push(performance.now() - t0);
        }
      }),
    );
    await signals.flush();
    const elapsed = (Date.now() - started) / 1000;
    const s = summarize(latencies);
    console.log(`| ${mode} | ${s.n} | ${(s.n / elapsed).toFixed(0)} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${notified} |`);
  }
} finally {
  await listener.end().catch(() => {});
  await db.destroy();
  await bench.drop();
}
