/**
 * The scenario mix shared by the k6 script (api-100-users.k6.ts) and the Node bench
 * (bench-api.ts): what one virtual user does, as plain request descriptions, so both tools
 * measure the same thing. No k6 or Node imports here.
 */
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
