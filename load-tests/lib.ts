/** Helpers for the Node benches: a fresh database, a server process, percentiles, memory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { dailyTotalsInserts } from '../server/transactions/index.ts';

export const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function createBenchDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `numina_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  rssMb(): number;
  /** CPU seconds (user + system, all threads) the server process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The server through tsx (`npm start`), or built (`npm run build`, then `node dist/server/main.js`). */
export const TSX_ENTRY = ['--import', 'tsx', 'server/main.ts'];
export const BUILT_ENTRY = ['dist/server/main.js'];

/** Starts the server as its own process (as in production) and waits for /readyz. */
/** `cwd`: the tree whose server runs (default: this one), e.g. another checkout for a side-by-side run. */
export async function startServer(databaseUrl: string, env: Record<string, string> = {}, nodeArgs: string[] = [], entry = TSX_ENTRY, cwd?: string): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, ...entry], {
    cwd,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      JWT_SECRET: randomBytes(32).toString('hex'),
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      RATE_LIMIT_IP_PER_MINUTE: '1000000',
      RATE_LIMIT_USER_PER_MINUTE: '1000000',
      RATE_LIMIT_SOCKET_HANDSHAKES_PER_MINUTE: '1000000',
      DATABASE_POOL_MAX: '20',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error('server exited');
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {
      // not yet
    }
    if (i > 600) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    rssMb: () => {
      if (child.exitCode !== null) return NaN;
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        return m ? Number(m[1]) / 1024 : NaN;
      } catch {
        return NaN; // the process ended between the check and the read
      }
    },
    cpuSeconds: () => processCpuSeconds(child.pid),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** utime + stime of a process from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s). */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds used so far by the PostgreSQL backends serving `database` (from their process titles,
 * `postgres: user database host(port) …`), by pid: take two samples and subtract per pid (a backend
 * that ended between them is not counted; the bench's pool keeps its connections open).
 */
export function postgresBackendsCpu(database: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmd.startsWith('postgres: ') || !cmd.includes(` ${database} `)) continue;
      out.set(Number(entry), processCpuSeconds(Number(entry)));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** CPU seconds the backends used between two `postgresBackendsCpu` samples. */
export function postgresCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function summarize(values: number[]): { n: number; p50: number; p95: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

/**
 * For benches that seed transactions with bulk SQL: writes the ledger's daily totals for `userId`
 * as the write path would have (server/transactions/daily-totals.ts), so `checkLedger` passes and
 * the reports read what they would in production.
 */
export async function seedDailyTotals(client: pg.ClientBase, userId: string): Promise<void> {
  for (const sql of dailyTotalsInserts('transactions', 't.user_id = $1')) await client.query(sql, [userId]);
}

/**
 * Seeds `n` transactions of one user on one USD account in SQL, as the ledger writes them (one
 * entry and one version row each; the account's balance and the daily totals brought in line), in
 * one transaction.
 */
export async function seedLedgerRows(databaseUrl: string, userId: string, accountId: string, n: number): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query('BEGIN');
    await c.query(
      `INSERT INTO transactions (user_id, type, account_id, currency, amount, date, notes, created_at, updated_at)
       SELECT $1, CASE WHEN g % 3 = 0 THEN 'income' ELSE 'expense' END, $2, 'USD', ((g % 10000) + 1) / 100.0, date '2020-01-01' + (g % 2190), 'bench row ' || g, now(), now()
         FROM generate_series(1, $3::int) g`,
      [userId, accountId, n],
    );
    await c.query(
      `INSERT INTO entries (transaction_id, user_id, account_id, currency, amount)
       SELECT id, user_id, account_id, currency, CASE WHEN type = 'income' THEN amount ELSE -amount END FROM transactions WHERE user_id = $1`,
      [userId],
    );
    await c.query(
      `INSERT INTO transaction_versions (transaction_id, user_id, version, action, actor_id, at, before, after)
       SELECT id, user_id, 1, 'create', user_id, created_at, NULL, jsonb_build_object('id', id, 'amount', amount::text, 'notes', notes) FROM transactions WHERE user_id = $1`,
      [userId],
    );
    await c.query(`UPDATE accounts SET balance = opening_balance + (SELECT coalesce(sum(amount), 0) FROM entries WHERE account_id = $1) WHERE id = $1`, [accountId]);
    await seedDailyTotals(c, userId);
    await c.query('COMMIT');
  } finally {
    await c.end();
  }
}
