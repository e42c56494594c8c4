/**
 * Server CPU per request of two trees side by side, under the same machine load: both servers run
 * at once (each on its own fresh database) and take turns, in short alternating rounds, serving the
 * same closed-loop read-heavy mix from `concurrency` clients — so what the rest of the machine does
 * falls on both alike, which a before-run and an after-run minutes apart cannot promise.
 *   npx tsx load-tests/bench-ab.ts <treeA> <treeB> [rounds=6] [secondsPerRound=5] [concurrency=20]
 * A tree is a checkout with its node_modules (e.g. `git worktree add /tmp/base main && npm ci`).
 * Mix: 40 % list transactions (50), 30 % list accounts, 20 % get a transaction, 10 % create an expense.
 */
import { createBenchDatabase, postgresBackendsCpu, postgresCpuBetween, startServer, summarize, type ServerProcess } from './lib.ts';
import { createAccountRequest, loginRequest, registerRequest, type RequestSpec } from './scenario.ts';

const [treeA, treeB] = [process.argv[2], process.argv[3]];
if (!treeA || !treeB) throw new Error('usage: bench-ab.ts <treeA> <treeB> [rounds] [secondsPerRound] [concurrency]');
const rounds = Number(process.argv[4] ?? 6);
const seconds = Number(process.argv[5] ?? 5);
const concurrency = Number(process.argv[6] ?? 20);
const USERS = 10;

interface Side {
  tree: string;
  db: Awaited<ReturnType<typeof createBenchDatabase>>;
  server: ServerProcess;
  users: { token: string; accountId: string; transactionIds: string[] }[];
  requests: number;
  errors: number;
  cpu: number;
  pgCpu: number;
  latencies: number[];
}

async function send(side: Side, spec: RequestSpec, token?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(side.server.url + spec.path, { method: spec.method, headers, body: spec.body === undefined ? undefined : JSON.stringify(spec.body) });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.status !== spec.expect) throw new Error(`${spec.name}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function open(tree: string): Promise<Side> {
  const db = await createBenchDatabase();
  const server = await startServer(db.url, {}, [], undefined, tree);
  return { tree, db, server, users: [], requests: 0, errors: 0, cpu: 0, pgCpu: 0, latencies: [] };
}

async function setUp(side: Side, run: string): Promise<void> {
  for (let vu = 1; vu <= USERS; vu++) {
    await send(side, registerRequest(vu, run));
    const token = String((await send(side, loginRequest(vu, run))).accessToken);
    const accountId = String((await send(side, createAccountRequest(0), token)).id);
    const transactionIds: string[] = [];
    for (let i = 0; i < 20; i++) transactionIds.push(String((await send(side, expense(accountId, i), token)).id));
    side.users.push({ token, accountId, transactionIds });
  }
}

function expense(accountId: string, i: number): RequestSpec {
  return { name: 'create_expense', method: 'POST', path: '/transactions', body: { accountId, type: 'expense', amount: `${1 + (i % 50)}.25`, date: `2026-0${1 + (i % 9)}-1${i % 10}`, notes: 'ab' }, expect: 201 };
}

function next(u: Side['users'][number], i: number): RequestSpec {
  const r = Math.random();
  if (r < 0.4) return { name: 'list_transactions', method: 'GET', path: `/transactions?limit=50&accountId=${u.accountId}`, expect: 200 };
  if (r < 0.7) return { name: 'list_accounts', method: 'GET', path: '/accounts', expect: 200 };
  if (r < 0.9) return { name: 'get_transaction', method: 'GET', path: `/transactions/${u.transactionIds[i % u.transactionIds.length]}`, expect: 200 };
  return expense(u.accountId, i);
}

async function round(side: Side): Promise<void> {
  const until = Date.now() + seconds * 1000;
  const cpu0 = side.server.cpuSeconds();
  const pg0 = postgresBackendsCpu(side.db.name);
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      const u = side.users[c % side.users.length];
      for (let i = c; Date.now() < until; i += concurrency) {
        const t0 = performance.now();
        try {
          await send(side, next(u, i), u.token);
        } catch {
          side.errors++;
        }
        side.latencies.push(performance.now() - t0);
        n++;
      }
    }),
  );
  side.cpu += side.server.cpuSeconds() - cpu0;
  side.pgCpu += postgresCpuBetween(pg0, postgresBackendsCpu(side.db.name));
  side.requests += n;
}

const run = Math.random().toString(36).slice(2, 8);
const sides = [await open(treeA), await open(treeB)];
try {
  for (const s of sides) await setUp(s, run);
  for (const s of sides) await round(s); // warm-up (JIT, pool, prepared statements), not counted
  for (const s of sides) Object.assign(s, { requests: 0, errors: 0, cpu: 0, pgCpu: 0, latencies: [] });
  for (let r = 0; r < rounds; r++) for (const s of r % 2 ? [...sides].reverse() : sides) await round(s);
} finally {
  for (const s of sides) {
    await s.server.stop();
    await s.db.drop();
  }
}
console.log(`bench-ab: ${rounds} alternating rounds of ${seconds} s, ${concurrency} clients, ${USERS} users`);
console.log('| tree | requests | req/s | errors | server CPU ms/request | PostgreSQL CPU ms/request | p50 ms | p95 ms | p99 ms |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const s of sides) {
  const l = summarize(s.latencies);
  console.log(`| ${s.tree} | ${s.requests} | ${(s.requests / (rounds * seconds)).toFixed(0)} | ${s.errors} | ${((s.cpu * 1000) / s.requests).toFixed(2)} | ${((s.pgCpu * 1000) / s.requests).toFixed(2)} | ${l.p50.toFixed(1)} | ${l.p95.toFixed(1)} | ${l.p99.toFixed(1)} |`);
}
