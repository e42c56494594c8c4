/**
 * Node counterpart of api-100-users.k6.ts (k6 is not installable on every machine): the same
 * scenario mix, 100 concurrent users, against a server process on loopback.
 *   npx tsx load-tests/bench-api.ts [seconds=30] [users=100] [thinkMs=1000] [mix=all|writes]
 * `writes` runs only the mix's writes (expense and transfer, 35:5): the write-throughput ceiling.
 * Uses a fresh database on BENCH_ADMIN_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createBenchDatabase, postgresBackendsCpu, postgresCpuBetween, startServer, summarize } from './lib.ts';
import {
  BUDGETED_CATEGORIES,
  GOALS_PER_USER,
  createBudgetRequest,
  createGoalRequest,
  listExpenseCategoriesRequest,
  DEFAULT_THINK_MS,
  createAccountRequest, loginRequest, nextRequest, pickScenario, registerRequest, type RequestSpec, type VuState } from './scenario.ts';

const seconds = Number(process.argv[2] ?? 30);
const users = Number(process.argv[3] ?? 100);
const thinkMs = Number(process.argv[4] ?? DEFAULT_THINK_MS);
const writesOnly = process.argv[5] === 'writes';
const run = randomBytes(3).toString('hex');

const db = await createBenchDatabase();
// COUNT_QUERIES_FILE=<path>: the server counts its SQL statements (count-queries.mjs); the steady state's are in <path>.1.json.
const countQueries = process.env.COUNT_QUERIES_FILE;
const nodeArgs = [...(countQueries ? ['--import', new URL('./count-queries.mjs', import.meta.url).href] : []), ...(process.env.SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
// REDIS_URL and DATABASE_POOL_MAX (default 20 in startServer) pass through to the server.
const serverEnv = Object.fromEntries(['REDIS_URL', 'DATABASE_POOL_MAX'].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : []))) as Record<string, string>;
const server = await startServer(db.url, serverEnv, nodeArgs);
const latencies = new Map<string, number[]>();
let errors = 0;
let requests = 0;
const statusErrors = new Map<string, number>();

async function send(spec: RequestSpec, token?: string): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const t0 = performance.now();
  const res = await fetch(server.url + spec.path, { method: spec.method, headers, body: spec.body === undefined ? undefined : JSON.stringify(spec.body) });
  const body = res.status === 204 ? {} : await res.json().catch(() => ({}));
  const ms = performance.now() - t0;
  requests++;
  if (res.status !== spec.expect) {
    errors++;
    const key = `${spec.name} ${res.status}`;
    statusErrors.set(key, (statusErrors.get(key) ?? 0) + 1);
  }
  if (!latencies.has(spec.name)) latencies.set(spec.name, []);
  latencies.get(spec.name)!.push(ms);
  return body as Record<string, unknown>;
}

/** Setup of one virtual user: register, log in, open two accounts, budget 5 categories, 3 goals on the first account. */
async function setUp(vu: number): Promise<VuState> {
  await send(registerRequest(vu, run));
  const login = await send(loginRequest(vu, run));
  const token = String(login.accessToken);
  const accountIds: string[] = [];
  for (const i of [0, 1]) accountIds.push(String((await send(createAccountRequest(i), token)).id));
  const categories = (await send(listExpenseCategoriesRequest(), token)).data as { id: string; name: string }[];
  const categoryIds = categories.filter((c) => BUDGETED_CATEGORIES.includes(c.name)).map((c) => c.id);
  const budgetIds: string[] = [];
  for (const id of categoryIds) budgetIds.push(String((await send(createBudgetRequest(id), token)).id));
  const goalIds: string[] = [];
  for (let i = 0; i < GOALS_PER_USER; i++) goalIds.push(String((await send(createGoalRequest(accountIds[0], i), token)).id));
  return { token, accountIds, transactionIds: [], iteration: 0, categoryIds, budgetIds, goalIds };
}

/** Steady state: the shared mix, back to back, until the deadline. */
async function steady(s: VuState, until: number): Promise<void> {
  while (Date.now() < until) {
    s.iteration++;
    // The mix lists the writes first (40 of 100): scaling r into [0, 0.4) picks only them.
    const spec = nextRequest(pickScenario(writesOnly ? Math.random() * 0.4 : Math.random()), s);
    const body = await send(spec, s.token);
    if (spec.method === 'POST' && typeof body.id === 'string' && s.transactionIds.length < 200) s.transactionIds.push(body.id);
    if (thinkMs > 0) await new Promise((r) => setTimeout(r, thinkMs));
  }
}

let peakRss = server.rssMb();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, server.rssMb());
}, 250);
const setupStarted = Date.now();
let started = 0;
let setupRequests: number;
let serverCpu: number;
let pgCpu: number;
try {
  const states = await Promise.all(Array.from({ length: users }, (_, i) => setUp(i + 1)));
  setupRequests = requests;
  console.log(`setup: ${users} users registered, logged in, opened 2 accounts, 5 budgets and 3 goals each in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);
  if (countQueries) server.child.kill('SIGUSR2');
  const cpu0 = server.cpuSeconds();
  const pg0 = postgresBackendsCpu(db.name);
  started = Date.now();
  await Promise.all(states.map((s) => steady(s, started + seconds * 1000)));
  serverCpu = server.cpuSeconds() - cpu0;
  pgCpu = postgresCpuBetween(pg0, postgresBackendsCpu(db.name));
  if (countQueries) {
    server.child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 300)); // the counts are written before the server stops
  }
} finally {
  clearInterval(sampler);
  await server.stop();
  await db.drop();
}
const elapsed = (Date.now() - started) / 1000;
const steadyRequests = requests - setupRequests;
console.log(`bench-api: ${users} users, think ${thinkMs} ms, mix ${writesOnly ? 'writes' : 'all'}, ${elapsed.toFixed(1)} s, ${os.cpus().length} cores, node ${process.version}, pool ${serverEnv.DATABASE_POOL_MAX ?? 20}${serverEnv.REDIS_URL ? ', Redis' : ''}`);
console.log(`steady state: ${steadyRequests} requests, ${(steadyRequests / elapsed).toFixed(0)} req/s; errors (all phases) ${errors}; server peak RSS ${peakRss.toFixed(0)} MB`);
// CPU time, unlike latency, hardly depends on what else the machine runs: the cost of a request.
console.log(
  `steady-state CPU: server ${serverCpu.toFixed(1)} s = ${((serverCpu * 1000) / steadyRequests).toFixed(2)} ms per request; ` +
    `PostgreSQL backends ${pgCpu.toFixed(1)} s = ${((pgCpu * 1000) / steadyRequests).toFixed(2)} ms per request`,
);
if (countQueries) {
  const counted = JSON.parse(readFileSync(`${countQueries}.1.json`, 'utf8')) as { total: number };
  console.log(`SQL statements in steady state: ${counted.total} = ${(counted.total / steadyRequests).toFixed(2)} per request (by text: ${countQueries}.1.json)`);
}
const writes = ['create_expense', 'create_transfer'].reduce((n, k) => n + (latencies.get(k)?.length ?? 0), 0);
console.log(`writes (expense + transfer): ${writes}, ${(writes / elapsed).toFixed(0)} per second`);
if (statusErrors.size) console.log('unexpected statuses:', Object.fromEntries(statusErrors));
console.log('| scenario | n | p50 ms | p95 ms | p99 ms |');
console.log('|---|---|---|---|---|');
for (const [name, values] of latencies) {
  const s = summarize(values);
  console.log(`| ${name} | ${s.n} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} |`);
}
