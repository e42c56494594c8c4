/**
 * k6: 100 concurrent users (VUS) against a running server (BASE_URL, default http://localhost:3000).
 *   k6 run -e BASE_URL=http://localhost:3000 load-tests/api-100-users.k6.ts
 * Start the server with limits that fit a load test, e.g.
 *   RATE_LIMIT_USER_PER_MINUTE=100000 RATE_LIMIT_IP_PER_MINUTE=100000 npm start
 * Each VU registers once, opens two accounts, then runs the shared scenario mix (scenario.ts)
 * with THINK_MS (default 1000) between requests; THINK_MS=0 measures the ceiling.
 */
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Trend } from 'k6/metrics';
import {
  BUDGETED_CATEGORIES,
  GOALS_PER_USER,
  createBudgetRequest,
  createGoalRequest,
  listExpenseCategoriesRequest,
  DEFAULT_THINK_MS,
  REQUEST_NAMES,
  createAccountRequest, loginRequest, nextRequest, pickScenario, registerRequest, type RequestSpec, type VuState } from './scenario.ts';

export const options = {
  scenarios: {
    users: { executor: 'constant-vus', vus: Number(__ENV.VUS || 100), duration: __ENV.DURATION || '60s' },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{scenario:users}': ['p(95)<250'],
  },
};

const BASE = __ENV.BASE_URL || 'http://localhost:3000';
const RUN = __ENV.RUN_ID || String(Date.now());
const THINK_MS = __ENV.THINK_MS ? Number(__ENV.THINK_MS) : DEFAULT_THINK_MS;
// k6 allows metrics only in the init context (this top level), never inside the VU function:
// one Trend per request name, made here. test/unit/k6-script.test.ts checks this in an emulator.
const perScenario: Record<string, Trend> = Object.fromEntries(REQUEST_NAMES.map((name) => [name, new Trend(`scenario_${name}`, true)]));
let state: VuState | undefined;

function send(spec: RequestSpec, token?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(spec.headers ?? {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = http.request(spec.method, BASE + spec.path, spec.body === undefined ? null : JSON.stringify(spec.body), { headers, tags: { name: spec.name } });
  check(res, { [`${spec.name} ${spec.expect}`]: (r) => r.status === spec.expect });
  const trend = perScenario[spec.name];
  if (!trend) throw new Error(`no Trend for request ${spec.name}: add it to REQUEST_NAMES`);
  trend.add(res.timings.duration);
  return res;
}

export default function () {
  if (!state) {
    send(registerRequest(__VU, RUN));
    const login = send(loginRequest(__VU, RUN));
    const token = String(login.json('accessToken'));
    const accountIds = [0, 1].map((i) => String(send(createAccountRequest(i), token).json('id')));
    const categories = send(listExpenseCategoriesRequest(), token).json('data') as { id: string; name: string }[];
    const categoryIds = categories.filter((c) => BUDGETED_CATEGORIES.includes(c.name)).map((c) => c.id);
    const budgetIds = categoryIds.map((id) => String(send(createBudgetRequest(id), token).json('id')));
    const goalIds = Array.from({ length: GOALS_PER_USER }, (_, i) => String(send(createGoalRequest(accountIds[0], i), token).json('id')));
    state = { token, accountIds, transactionIds: [], iteration: 0, categoryIds, budgetIds, goalIds };
  }
  state.iteration++;
  const spec = nextRequest(pickScenario(Math.random()), state);
  const res = send(spec, state.token);
  if (spec.method === 'POST' && res.status === 201 && state.transactionIds.length < 200) state.transactionIds.push(String(res.json('id')));
  if (THINK_MS > 0) sleep(THINK_MS / 1000);
}
