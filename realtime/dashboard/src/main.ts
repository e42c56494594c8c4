/**
 * The live dashboard (served at /dashboard): sign-in, the panels loaded over HTTP, then kept current
 * by the one Socket.IO connection. It is also the reference client of the realtime protocol
 * (docs/api.md, Realtime) and the end-to-end test's subject (test/e2e/dashboard.test.ts).
 */
import { ApiError, createSession, type Profile } from './api.js';
import { destroyChart, drawNetWorth, type NetWorthReport } from './chart.js';
import { connectLive, forgetResumePoint, type ConnectionState, type Live, type LiveEvent } from './live.js';
import { formatMoney, percent } from './money.js';
import {
  byId,
  flash,
  renderAccounts,
  renderBudgets,
  renderGoals,
  renderNotifications,
  renderTransactions,
  sortTransactions,
  toast,
  type Account,
  type Budget,
  type Category,
  type Goal,
  type Notification,
  type Transaction,
} from './panels.js';

const LATEST = 10;

interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

const session = createSession();
let live: Live | undefined;
let profile: Profile | undefined;

const state = {
  accounts: new Map<string, Account>(),
  categories: new Map<string, Category>(),
  transactions: [] as Transaction[],
  budgets: [] as Budget[],
  goals: [] as Goal[],
  notifications: [] as Notification[],
  total: undefined as { amount: string; currency: string } | undefined,
  /** The seq of the event that last changed each listed transaction (shown as data-seq). */
  seqOf: new Map<string, number>(),
  /** Budget alerts already shown (budget, period, threshold): a toast appears once. */
  alerted: new Set<string>(),
};

const accountsInOrder = () => [...state.accounts.values()];

function showAccounts(): void {
  renderAccounts(accountsInOrder(), state.total);
}
function showTransactions(fresh?: string): void {
  renderTransactions(state.transactions, state.accounts, state.categories, state.seqOf, fresh);
}

// ---- loading over HTTP -------------------------------------------------------------------------

async function loadAccounts(): Promise<void> {
  const page = await session.request<Page<Account>>('/accounts?limit=500');
  state.accounts = new Map(page.data.map((a) => [a.id, a]));
  fillAccountSelect();
}
async function loadCategories(): Promise<void> {
  const page = await session.request<Page<Category>>('/categories?limit=500');
  state.categories = new Map(page.data.map((c) => [c.id, c]));
  fillCategorySelect();
}
async function loadTransactions(): Promise<void> {
  // The API orders one day's transactions by id; the panel shows the newest created first.
  state.transactions = sortTransactions((await session.request<Page<Transaction>>(`/transactions?limit=${LATEST}`)).data);
  showTransactions();
}
async function loadBudgets(): Promise<void> {
  state.budgets = (await session.request<Page<Budget>>('/budgets?limit=500')).data;
  renderBudgets(state.budgets, state.categories);
}
async function loadGoals(): Promise<void> {
  state.goals = (await session.request<Page<Goal>>('/goals?limit=500')).data;
  renderGoals(state.goals);
}
async function loadNotifications(): Promise<void> {
  state.notifications = (await session.request<Page<Notification>>('/notifications?unread=true&limit=20')).data;
  renderNotifications(state.notifications);
}
/** Net worth over 12 months; its last point is also the accounts' total in the user's currency. */
async function loadNetWorth(): Promise<void> {
  const report = await session.request<NetWorthReport>('/reports/net-worth?interval=month');
  const last = report.points[report.points.length - 1];
  state.total = last ? { amount: last.netWorth, currency: report.currency } : undefined;
  showAccounts();
  drawNetWorth(byId<HTMLCanvasElement>('networth-chart'), report);
  byId('networth-note').textContent = report.missingRates.length
    ? `Left out for want of an exchange rate: ${report.missingRates.map((m) => `${m.from}→${m.to} from ${m.date}`).join(', ')}.`
    : '';
}

async function loadAll(): Promise<void> {
  await Promise.all([loadAccounts(), loadCategories()]);
  showAccounts();
  await Promise.all([loadTransactions(), loadBudgets(), loadGoals(), loadNotifications(), loadNetWorth()]);
}

/** Coalesces reloads that many events in a row would each ask for. */
function debounced(fn: () => Promise<void>, ms = 250): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      fn().catch(report);
    }, ms);
  };
}
const refreshBudgets = debounced(loadBudgets);
// The report reads every account's history: at most one per second of writes per open page.
const refreshNetWorth = debounced(loadNetWorth, 1000);
const refreshNotifications = debounced(loadNotifications);
const refreshGoals = debounced(loadGoals);

function report(err: unknown): void {
  if (err instanceof ApiError && err.status === 401) return; // the session ended: sign-in is shown
  console.warn('dashboard:', err);
}

// ---- live events -------------------------------------------------------------------------------

function onEvent(event: LiveEvent): void {
  switch (event.type) {
    case 'balance.updated': {
      const d = event.data as { accountId: string; balance: string; currency: string };
      const account = state.accounts.get(d.accountId);
      if (!account) {
        loadAccounts().then(showAccounts).catch(report);
      } else {
        account.balance = d.balance;
        showAccounts();
        const row = document.querySelector(`[data-account-id="${CSS.escape(d.accountId)}"]`);
        if (row) flash(row);
      }
      refreshNetWorth();
      break;
    }
    case 'transaction.created':
    case 'transaction.updated':
    case 'transaction.deleted': {
      const t = (event.data as { transaction: Transaction }).transaction;
      const others = state.transactions.filter((x) => x.id !== t.id);
      state.seqOf.set(t.id, event.seq);
      state.transactions = event.type === 'transaction.deleted' ? others : sortTransactions([...others, t]).slice(0, LATEST);
      showTransactions(event.type === 'transaction.deleted' ? undefined : t.id);
      refreshBudgets();
      break;
    }
    case 'budget.alert': {
      const d = event.data as { budgetId: string; categoryId: string; periodStart: string; spent: string; amount: string; currency: string; threshold: string };
      const key = `${d.budgetId}|${d.periodStart}|${d.threshold}`;
      if (!state.alerted.has(key)) {
        state.alerted.add(key);
        const name = state.categories.get(d.categoryId)?.name ?? 'A';
        toast(`${name} budget passed ${percent(d.threshold)}%: ${formatMoney(d.spent, d.currency)} of ${formatMoney(d.amount, d.currency)} spent.`);
      }
      refreshBudgets();
      refreshNotifications();
      break;
    }
    case 'goal.progress': {
      const d = event.data as { goalId: string; currentAmount: string; currency: string; progress: string; achieved: boolean };
      const goal = state.goals.find((g) => g.id === d.goalId);
      if (goal) {
        goal.currentAmount = d.currentAmount;
        goal.progress = d.progress;
        renderGoals(state.goals);
        const row = document.querySelector(`[data-goal-id="${CSS.escape(d.goalId)}"]`);
        if (row) flash(row);
      }
      // The projected date and on-track flag are the server's to compute.
      refreshGoals();
      if (d.achieved) refreshNotifications();
      break;
    }
  }
}

function setConnection(s: ConnectionState): void {
  const el = byId('connection');
  el.dataset.state = s;
  el.textContent = s;
}

// ---- forms -------------------------------------------------------------------------------------

function fillAccountSelect(): void {
  const select = byId<HTMLSelectElement>('add-account');
  const chosen = select.value;
  select.replaceChildren(
    ...accountsInOrder()
      .filter((a) => !a.archived)
      .map((a) => new Option(`${a.name} (${a.currency})`, a.id)),
  );
  if (chosen && state.accounts.has(chosen)) select.value = chosen;
}

function chosenType(): 'expense' | 'income' {
  return (byId<HTMLFormElement>('add-form').elements.namedItem('type') as RadioNodeList).value === 'income' ? 'income' : 'expense';
}

function fillCategorySelect(): void {
  const select = byId<HTMLSelectElement>('add-category');
  const kind = chosenType();
  select.replaceChildren(
    new Option('— none —', ''),
    ...[...state.categories.values()].filter((c) => c.kind === kind).sort((a, b) => a.name.localeCompare(b.name)).map((c) => new Option(c.name, c.id)),
  );
}

/** Today in the user's time zone (the API's dates are the user's calendar days). */
function today(timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

/**
 * A random Idempotency-Key: a double-submitted form creates one transaction. crypto.randomUUID exists
 * only in secure contexts (HTTPS, localhost); getRandomValues everywhere (plain HTTP on a LAN name).
 */
function idempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function clearFieldErrors(form: HTMLFormElement): void {
  for (const el of form.querySelectorAll<HTMLElement>('.error[data-field]')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

async function submitTransaction(form: HTMLFormElement): Promise<void> {
  clearFieldErrors(form);
  const status = byId('add-status');
  const data = new FormData(form);
  const field = (name: string) => {
    const v = data.get(name);
    return typeof v === 'string' ? v.trim() : '';
  };
  const body: Record<string, string> = { type: chosenType(), accountId: field('accountId'), amount: field('amount'), date: field('date') };
  const categoryId = field('categoryId');
  if (categoryId) body.categoryId = categoryId;
  const notes = field('notes');
  if (notes) body.notes = notes;
  status.textContent = 'Saving…';
  try {
    await session.request('/transactions', { method: 'POST', json: body, headers: { 'idempotency-key': idempotencyKey() } });
    status.textContent = 'Added. The panels update from the live event.';
    byId<HTMLInputElement>('add-amount').value = '';
    byId<HTMLInputElement>('add-notes').value = '';
  } catch (err) {
    if (!(err instanceof ApiError)) {
      status.textContent = 'Could not reach the server.';
      return;
    }
    status.textContent = err.errors.length ? 'Please correct the fields marked below.' : err.message;
    for (const e of err.errors) {
      // Paths name where the field was: `body.amount`.
      const [where, name] = e.path.split('.');
      const field = where === 'body' && name ? name : where;
      const slot = form.querySelector<HTMLElement>(`.error[data-field="${CSS.escape(field)}"]`);
      if (slot) {
        slot.textContent = e.message;
        form.querySelector(`[name="${CSS.escape(field)}"]`)?.setAttribute('aria-invalid', 'true');
      }
    }
    form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }
}

// ---- sign-in, sign-out -------------------------------------------------------------------------

async function start(p: Profile): Promise<void> {
  profile = p;
  byId('signin').hidden = true;
  byId('dashboard').hidden = false;
  byId('logout').hidden = false;
  byId('who').textContent = `${p.name ?? p.email} · ${p.currency} · ${p.timeZone}`;
  byId<HTMLInputElement>('add-date').value = today(p.timeZone);
  // A panel that fails to load stays empty; the socket's reload (or the next event) fills it later.
  await loadAll().catch(report);
  live = connectLive(session, p.id, {
    onEvent,
    onReload: () => void loadAll().catch(report),
    onState: setConnection,
    onRevoked: () => void signOut('This login was ended elsewhere. Please sign in again.'),
    onRenewed: () => {
      const el = byId('connection');
      el.dataset.renewedAt = new Date().toISOString();
      el.title = `Token renewed on this connection at ${new Date().toLocaleTimeString()}`;
    },
  });
  byId('accounts-title').focus();
}

/** Back to sign-in. `logout`: the user asked (the login ends on the server, the resume point is dropped). */
async function signOut(message: string, logout = false): Promise<void> {
  const was = profile;
  profile = undefined;
  live?.close();
  live = undefined;
  if (logout && was) forgetResumePoint(was.id);
  // The tokens are dropped here in every case (their refresh timer too).
  await session.logout(logout);
  destroyChart();
  state.alerted.clear();
  byId('dashboard').hidden = true;
  byId('logout').hidden = true;
  byId('who').textContent = '';
  byId('signin').hidden = false;
  byId('signin-error').textContent = message;
  setConnection('offline');
  byId<HTMLInputElement>('email').focus();
}

function wire(): void {
  const signinForm = byId<HTMLFormElement>('signin-form');
  const totpRow = byId('totp-row');
  signinForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const email = byId<HTMLInputElement>('email').value.trim();
    const password = byId<HTMLInputElement>('password').value;
    const totp = byId<HTMLInputElement>('totp').value.trim();
    const error = byId('signin-error');
    error.textContent = '';
    session
      .login(email, password, totpRow.hidden ? undefined : totp)
      .then((p) => {
        byId<HTMLInputElement>('password').value = '';
        byId<HTMLInputElement>('totp').value = '';
        totpRow.hidden = true;
        return start(p);
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'mfa_required') {
          totpRow.hidden = false;
          byId('totp').focus();
          if (totp) error.textContent = 'That code did not work. Try the current one.';
          return;
        }
        if (err instanceof ApiError && err.status === 429) error.textContent = `Too many attempts. Try again in ${err.retryAfter ?? 60} seconds.`;
        else if (err instanceof ApiError && err.status === 401) error.textContent = 'Wrong email or password.';
        else if (err instanceof ApiError && err.errors.length) error.textContent = err.errors.map((x) => `${x.path}: ${x.message}`).join('; ');
        else error.textContent = err instanceof Error ? err.message : 'Could not sign in.';
      });
  });

  session.onEnded((why) => {
    if (profile) void signOut(why);
  });
  byId('logout').addEventListener('click', () => void signOut('Signed out.', true));

  const addForm = byId<HTMLFormElement>('add-form');
  addForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void submitTransaction(addForm);
  });
  for (const radio of addForm.querySelectorAll('input[name="type"]')) radio.addEventListener('change', fillCategorySelect);

  byId('read-all').addEventListener('click', () => {
    session
      .request('/notifications/read-all', { method: 'POST' })
      .then(loadNotifications)
      .catch(report);
  });

  // Escape dismisses the newest toast.
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') byId('toasts').lastElementChild?.remove();
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire);
else wire();
