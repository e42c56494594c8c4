/**
 * The scenario mix shared by the k6 script (api-100-users.k6.ts) and the Node bench
 * (bench-api.ts): what one virtual user does, as plain request descriptions, so both tools
 * measure the same thing. No k6 or Node imports here.
 */
import { BENCH_PASSWORD, benchEmail } from '../seeds/bench-users.ts';

export interface VuState {
  token: string;
  accountIds: string[];
  transactionIds: string[];
  iteration: number;
  /** Expense categories that carry budgets (expenses are filed under them). */
  categoryIds: string[];
  budgetIds: string[];
  goalIds: string[];
}

export interface RequestSpec {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Status a healthy server answers. */
  expect: number;
}

/**
 * Pause between one user's requests (a person reading a dashboard). 0 makes a closed loop that
 * measures the server's ceiling rather than what 100 people feel.
 */
export const DEFAULT_THINK_MS = 1000;

/** Weights of the steady-state mix (sum 100): a dashboard-heavy read/write split. */
export const MIX: { name: string; weight: number }[] = [
  { name: 'create_expense', weight: 30 },
  { name: 'create_transfer', weight: 5 },
  { name: 'list_transactions', weight: 25 },
  { name: 'list_accounts', weight: 15 },
  { name: 'get_transaction', weight: 10 },
  { name: 'list_budgets', weight: 5 },
  { name: 'get_budget', weight: 3 },
  { name: 'list_goals', weight: 5 },
  { name: 'get_goal', weight: 2 },
];

/** Each user budgets these default categories (monthly) and keeps 3 goals on the first account. */
export const BUDGETED_CATEGORIES = ['Food', 'Rent', 'Transport', 'Utilities', 'Entertainment'];
export const GOALS_PER_USER = 3;

export function listExpenseCategoriesRequest(): RequestSpec {
  return { name: 'list_categories', method: 'GET', path: '/categories?kind=expense&limit=500', expect: 200 };
}

export function createBudgetRequest(categoryId: string): RequestSpec {
  return { name: 'create_budget', method: 'POST', path: '/budgets', body: { categoryId, amount: '5000.00', period: 'monthly' }, expect: 201 };
}

export function createGoalRequest(accountId: string, i: number): RequestSpec {
  return { name: 'create_goal', method: 'POST', path: '/goals', body: { name: `Goal ${i}`, targetAmount: '100000.00', targetDate: '2030-12-31', accountIds: [accountId] }, expect: 201 };
}

/** Every request name a user sends (setup and mix): k6 needs one Trend per name, made at init. */
export const REQUEST_NAMES: readonly string[] = ['register', 'login', 'create_account', 'list_categories', 'create_budget', 'create_goal', ...MIX.map((m) => m.name)];

export function pickScenario(r: number): string {
  let acc = 0;
  for (const m of MIX) {
    acc += m.weight;
    if (r * 100 < acc) return m.name;
  }
  return MIX[MIX.length - 1].name;
}

export function registerRequest(vu: number, run: string): RequestSpec {
  return {
    name: 'register',
    method: 'POST',
    path: '/auth/register',
    body: { email: `load-${run}-${vu}@example.com`, password: `Load-test-passphrase-${run}-${vu}`, name: `Load ${vu}`, currency: 'USD' },
    expect: 201,
  };
}

export function loginRequest(vu: number, run: string): RequestSpec {
  return {
    name: 'login',
    method: 'POST',
    path: '/auth/login',
    body: { email: `load-${run}-${vu}@example.com`, password: `Load-test-passphrase-${run}-${vu}` },
    expect: 200,
  };
}

export function createAccountRequest(i: number): RequestSpec {
  return {
    name: 'create_account',
    method: 'POST',
    path: '/accounts',
    body: { name: `Account ${i}`, type: i === 0 ? 'bank' : 'cash', currency: 'USD', openingBalance: '1000.00' },
    expect: 201,
  };
}

function day(i: number): string {
  const d = new Date(Date.UTC(2026, 0, 1) + (i % 300) * 86400000);
  return d.toISOString().slice(0, 10);
}

/** The next request of the steady-state mix for a logged-in virtual user. */
export function nextRequest(name: string, s: VuState): RequestSpec {
  const [a, b] = s.accountIds;
  switch (name) {
    case 'create_expense':
      return {
        name,
        method: 'POST',
        path: '/transactions',
        body: {
          accountId: a,
          type: 'expense',
          amount: `${1 + (s.iteration % 50)}.25`,
          // Half of them today (the budgets' current period, where alerts are decided), half spread over the year.
          date: s.iteration % 2 ? new Date().toISOString().slice(0, 10) : day(s.iteration),
          notes: 'load',
          ...(s.categoryIds.length ? { categoryId: s.categoryIds[s.iteration % s.categoryIds.length] } : {}),
        },
        expect: 201,
      };
    case 'create_transfer':
      return { name, method: 'POST', path: '/transactions', body: { accountId: a, toAccountId: b, type: 'transfer', amount: '1.00', date: day(s.iteration) }, expect: 201 };
    case 'list_transactions':
      return { name, method: 'GET', path: `/transactions?limit=50&accountId=${a}`, expect: 200 };
    case 'list_accounts':
      return { name, method: 'GET', path: '/accounts', expect: 200 };
    case 'get_transaction': {
      const id = s.transactionIds[s.iteration % Math.max(1, s.transactionIds.length)];
      return id ? { name, method: 'GET', path: `/transactions/${id}`, expect: 200 } : { name: 'list_accounts', method: 'GET', path: '/accounts', expect: 200 };
    }
    case 'list_budgets':
      return { name, method: 'GET', path: '/budgets', expect: 200 };
    case 'get_budget': {
      const id = s.budgetIds[s.iteration % Math.max(1, s.budgetIds.length)];
      return id ? { name, method: 'GET', path: `/budgets/${id}`, expect: 200 } : { name: 'list_budgets', method: 'GET', path: '/budgets', expect: 200 };
    }
    case 'list_goals':
      return { name, method: 'GET', path: '/goals', expect: 200 };
    case 'get_goal': {
      const id = s.goalIds[s.iteration % Math.max(1, s.goalIds.length)];
      return id ? { name, method: 'GET', path: `/goals/${id}`, expect: 200 } : { name: 'list_goals', method: 'GET', path: '/goals', expect: 200 };
    }
    default:
      throw new Error(`unknown scenario ${name}`);
  }
}

// ---------------------------------------------------------------- the mix on seeded data
// What a user of `npm run seed:bench` data does (k6 smoke/load/stress and `npm run bench:load`):
// log in once to a seeded user, refresh the token before it expires, then the dashboard mix.

export { BENCH_PASSWORD, benchEmail };

/** A virtual user signed in to a seeded user (bench-<n>), with what its setup read. */
export interface SeededVu {
  user: number;
  token: string;
  refreshToken: string;
  /** When to refresh (ms since epoch): a minute before the access token expires. */
  refreshAt: number;
  /** The user's USD accounts (expenses and transfers stay in one currency). */
  accountIds: string[];
  expenseCategoryIds: string[];
  budgetIds: string[];
  goalIds: string[];
  /** Transactions this virtual user created and has not deleted (edited and deleted in turn). */
  created: string[];
  iteration: number;
}

/** Weights (sum 100) of the dashboard mix: reads of every screen, and the write cycle create → edit → delete. */
export const SEEDED_MIX: { name: string; weight: number }[] = [
  { name: 'list_accounts', weight: 14 },
  { name: 'list_transactions', weight: 20 },
  { name: 'create_expense', weight: 12 },
  { name: 'edit_transaction', weight: 6 },
  { name: 'delete_transaction', weight: 5 },
  { name: 'create_transfer', weight: 3 },
  { name: 'report_monthly', weight: 6 },
  { name: 'report_categories', weight: 6 },
  { name: 'net_worth', weight: 5 },
  { name: 'list_budgets', weight: 7 },
  { name: 'get_budget', weight: 3 },
  { name: 'list_goals', weight: 10 },
  { name: 'get_goal', weight: 3 },
];
/** The writes of the mix (the write-throughput workload runs only these). */
export const SEEDED_WRITES = ['create_expense', 'edit_transaction', 'delete_transaction', 'create_transfer'];
export const SEEDED_SETUP = ['login', 'refresh', 'setup_accounts', 'setup_categories', 'setup_budgets', 'setup_goals'];
/** Every request name of the seeded mix (k6 needs one Trend per name, made at init). */
export const SEEDED_REQUEST_NAMES: readonly string[] = [...SEEDED_SETUP, ...SEEDED_MIX.map((m) => m.name)];

/** Picks from SEEDED_MIX with r in [0, 1); `writesOnly` picks among the writes alone. */
export function pickSeeded(r: number, writesOnly = false): string {
  const mix = writesOnly ? SEEDED_MIX.filter((m) => SEEDED_WRITES.includes(m.name)) : SEEDED_MIX;
  const total = mix.reduce((n, m) => n + m.weight, 0);
  let acc = 0;
  for (const m of mix) {
    acc += m.weight;
    if (r * total < acc) return m.name;
  }
  return mix[mix.length - 1].name;
}

/** The seeded user a virtual user signs in as: VUs beyond the user count share users round-robin. */
export function seededUserFor(vu: number, users: number): number {
  return ((vu - 1) % users) + 1;
}

export function seededLoginRequest(user: number): RequestSpec {
  return { name: 'login', method: 'POST', path: '/auth/login', body: { email: benchEmail(user), password: BENCH_PASSWORD }, expect: 200 };
}

export function refreshRequest(refreshToken: string): RequestSpec {
  return { name: 'refresh', method: 'POST', path: '/auth/refresh', body: { refreshToken }, expect: 200 };
}

/** The reads a virtual user does once after logging in, to learn its ids. */
export const SEEDED_SETUP_REQUESTS: RequestSpec[] = [
  { name: 'setup_accounts', method: 'GET', path: '/accounts?limit=100', expect: 200 },
  { name: 'setup_categories', method: 'GET', path: '/categories?kind=expense&limit=500', expect: 200 },
  { name: 'setup_budgets', method: 'GET', path: '/budgets?limit=100', expect: 200 },
  { name: 'setup_goals', method: 'GET', path: '/goals?limit=100', expect: 200 },
];

interface TokenBody {
  accessToken?: string;
  refreshToken?: string;
  expiresIn?: number;
}

/** A signed-in virtual user from the login answer and the four setup reads (bodies in SEEDED_SETUP_REQUESTS order). */
export function seededVu(user: number, login: TokenBody, setup: unknown[], now: number): SeededVu {
  const data = (b: unknown) => ((b as { data?: Record<string, string>[] } | undefined)?.data ?? []);
  const [accounts, categories, budgets, goals] = setup.map(data);
  return {
    user,
    token: String(login.accessToken),
    refreshToken: String(login.refreshToken),
    refreshAt: now + (Number(login.expiresIn ?? 900) - 60) * 1000,
    accountIds: accounts.filter((a) => a.currency === 'USD').map((a) => a.id),
    expenseCategoryIds: categories.map((c) => c.id),
    budgetIds: budgets.map((b) => b.id),
    goalIds: goals.map((g) => g.id),
    created: [],
    iteration: 0,
  };
}

/** True when the access token is due for a refresh (a minute before it expires). */
export function needsRefresh(s: SeededVu, now: number): boolean {
  return now >= s.refreshAt;
}

/** Takes the new tokens of a refresh answer. */
export function applyRefresh(s: SeededVu, body: TokenBody, now: number): void {
  s.token = String(body.accessToken);
  s.refreshToken = String(body.refreshToken);
  s.refreshAt = now + (Number(body.expiresIn ?? 900) - 60) * 1000;
}

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const pick = <T>(xs: T[], i: number): T | undefined => (xs.length ? xs[i % xs.length] : undefined);

/** The expense a virtual user writes (also what the socket scenario writes to time its events). */
export function expenseRequest(s: SeededVu, now: number): RequestSpec {
  const category = pick(s.expenseCategoryIds, s.iteration);
  return {
    name: 'create_expense',
    method: 'POST',
    path: '/transactions',
    body: {
      accountId: pick(s.accountIds, s.iteration),
      type: 'expense',
      amount: `${1 + (s.iteration % 80)}.${String(s.iteration % 100).padStart(2, '0')}`,
      date: isoDate(now - (s.iteration % 30) * 86_400_000),
      notes: 'load test',
      ...(category ? { categoryId: category } : {}),
    },
    expect: 201,
  };
}

/** The next request of the seeded mix (`now` in ms: dates are relative to it). */
export function seededRequest(name: string, s: SeededVu, now: number): RequestSpec {
  const account = pick(s.accountIds, s.iteration) ?? '';
  const own = s.created[s.created.length - 1];
  switch (name) {
    case 'list_accounts':
      return { name, method: 'GET', path: '/accounts', expect: 200 };
    case 'list_transactions':
      return { name, method: 'GET', path: `/transactions?limit=50&accountId=${account}&type=expense&from=${isoDate(now - 90 * 86_400_000)}`, expect: 200 };
    case 'create_expense':
      return expenseRequest(s, now);
    case 'edit_transaction': {
      if (!own) return expenseRequest(s, now);
      const body = { ...(expenseRequest(s, now).body as Record<string, unknown>), amount: `${2 + (s.iteration % 50)}.50`, notes: 'load test, edited' };
      return { name, method: 'PUT', path: `/transactions/${own}`, body, expect: 200 };
    }
    case 'delete_transaction':
      return own ? { name, method: 'DELETE', path: `/transactions/${own}`, expect: 204 } : expenseRequest(s, now);
    case 'create_transfer': {
      const [from, to] = s.accountIds;
      if (!to) return expenseRequest(s, now);
      return { name, method: 'POST', path: '/transactions', body: { accountId: from, toAccountId: to, type: 'transfer', amount: '5.00', date: isoDate(now), notes: 'load test' }, expect: 201 };
    }
    case 'report_monthly':
      return { name, method: 'GET', path: '/reports/monthly', expect: 200 };
    case 'report_categories':
      return { name, method: 'GET', path: '/reports/categories', expect: 200 };
    case 'net_worth':
      return { name, method: 'GET', path: '/reports/net-worth?interval=month', expect: 200 };
    case 'list_budgets':
      return { name, method: 'GET', path: '/budgets', expect: 200 };
    case 'get_budget': {
      const id = pick(s.budgetIds, s.iteration);
      return id ? { name, method: 'GET', path: `/budgets/${id}`, expect: 200 } : { name: 'list_budgets', method: 'GET', path: '/budgets', expect: 200 };
    }
    case 'list_goals':
      return { name, method: 'GET', path: '/goals', expect: 200 };
    case 'get_goal': {
      const id = pick(s.goalIds, s.iteration);
      return id ? { name, method: 'GET', path: `/goals/${id}`, expect: 200 } : { name: 'list_goals', method: 'GET', path: '/goals', expect: 200 };
    }
    default:
      throw new Error(`unknown request ${name}`);
  }
}

/** What a healthy answer changes in the virtual user's state (its own transactions, for edit and delete). */
export function afterResponse(s: SeededVu, spec: RequestSpec, status: number, body: unknown): void {
  if (status !== spec.expect) return;
  if (spec.method === 'POST' && spec.path === '/transactions') {
    const id = (body as { id?: string } | undefined)?.id;
    if (id && s.created.length < 50) s.created.push(id);
  } else if (spec.method === 'DELETE') {
    s.created.pop();
  }
}
