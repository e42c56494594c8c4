/**
 * The panels, rendered from plain state with DOM calls only (text through textContent, widths through
 * the CSSOM: the page runs under a CSP without inline styles or scripts).
 */
import { formatMoney, isNegative, percent, sumDecimals } from './money.js';

export interface Account {
  id: string;
  name: string;
  type: string;
  currency: string;
  balance: string;
  archived: boolean;
}
export interface Transaction {
  id: string;
  accountId: string;
  type: 'income' | 'expense' | 'transfer';
  amount: string;
  currency: string;
  date: string;
  categoryId: string | null;
  notes: string | null;
  toAccountId: string | null;
  createdAt: string;
}
export interface Category {
  id: string;
  name: string;
  kind: 'income' | 'expense';
}
export interface Budget {
  id: string;
  categoryId: string;
  amount: string;
  currency: string;
  period: string;
  thresholds: string[];
  periodStart: string;
  periodEnd: string;
  spent: string;
  remaining: string;
  progress: string;
}
export interface Goal {
  id: string;
  name: string;
  targetAmount: string;
  currency: string;
  targetDate: string;
  currentAmount: string;
  progress: string;
  onTrack: boolean;
  projectedDate: string | null;
  achievedAt: string | null;
}
export interface Notification {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  createdAt: string;
  readAt: string | null;
}

type Attrs = Record<string, string | undefined>;

/** An element with attributes and text or child nodes. */
export function h(tag: string, attrs: Attrs = {}, ...children: (Node | string)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

/** Briefly highlights what a live event changed. */
export function flash(el: Element): void {
  el.classList.remove('flash');
  void (el as HTMLElement).offsetWidth;
  el.classList.add('flash');
}

function money(amount: string, currency: string, cls = 'amount'): HTMLElement {
  return h('span', { class: `${cls}${isNegative(amount) ? ' negative' : ''}` }, formatMoney(amount, currency));
}

/** A progress bar (role progressbar) with threshold marks; `ratio` may exceed 1 (over budget). */
function bar(label: string, ratio: string, marks: string[], state: string): HTMLElement {
  const pct = percent(ratio);
  const fill = h('span', { class: 'fill' });
  fill.style.width = `${Math.min(100, pct)}%`;
  const el = h('div', { class: `bar ${state}`, role: 'progressbar', 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.min(100, pct)), 'aria-valuetext': `${pct}%` }, fill);
  for (const m of marks) {
    const mark = h('span', { class: 'mark', title: `${percent(m)}% threshold` });
    mark.style.left = `calc(${Math.min(100, percent(m))}% - 1px)`;
    el.append(mark);
  }
  return el;
}

export function renderAccounts(accounts: Account[], total: { amount: string; currency: string } | undefined): void {
  const list = byId('accounts');
  list.replaceChildren(
    ...accounts.map((a) =>
      h(
        'li',
        { 'data-account-id': a.id },
        h('div', { class: 'row' }, h('span', { class: 'name' }, a.name), money(a.balance, a.currency, 'amount balance')),
        h('div', { class: 'meta' }, `${a.type}${a.archived ? ' · archived' : ''}`),
      ),
    ),
  );
  if (!accounts.length) list.append(h('li', { class: 'meta' }, 'No accounts yet.'));
  const byCurrency = new Map<string, string[]>();
  for (const a of accounts) byCurrency.set(a.currency, [...(byCurrency.get(a.currency) ?? []), a.balance]);
  const rows: HTMLElement[] = [];
  for (const [currency, balances] of [...byCurrency].sort(([x], [y]) => x.localeCompare(y))) {
    rows.push(h('dt', {}, `In ${currency}`), h('dd', { 'data-total-currency': currency }, formatMoney(sumDecimals(balances), currency)));
  }
  if (total) rows.push(h('dt', {}, h('strong', {}, `Total in ${total.currency}`)), h('dd', { 'data-total': 'user-currency' }, h('strong', {}, formatMoney(total.amount, total.currency))));
  byId('totals').replaceChildren(...rows);
}

/** Newest first, as `GET /transactions` orders them (date, then creation). */
export function sortTransactions(list: Transaction[]): Transaction[] {
  return [...list].sort((a, b) => b.date.localeCompare(a.date) || b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

export function renderTransactions(list: Transaction[], accounts: Map<string, Account>, categories: Map<string, Category>, seqOf: Map<string, number>, fresh?: string): void {
  const body = byId('transactions');
  body.replaceChildren(
    ...list.map((t) => {
      const what = t.notes || (t.categoryId ? categories.get(t.categoryId)?.name : undefined) || t.type;
      const account = accounts.get(t.accountId)?.name ?? '';
      const to = t.type === 'transfer' && t.toAccountId ? ` → ${accounts.get(t.toAccountId)?.name ?? ''}` : '';
      const sign = t.type === 'expense' ? '-' : '';
      const row = h(
        'tr',
        { 'data-transaction-id': t.id, 'data-seq': seqOf.has(t.id) ? String(seqOf.get(t.id)) : undefined },
        h('td', {}, t.date),
        h('td', {}, h('span', { class: 'description' }, what), h('div', { class: 'meta' }, `${account}${to}`)),
        h('td', { class: `num ${t.type}` }, formatMoney(`${sign}${t.amount}`, t.currency)),
      );
      if (t.id === fresh) flash(row);
      return row;
    }),
  );
  if (!list.length) body.append(h('tr', {}, h('td', { colspan: '3', class: 'meta' }, 'No transactions yet.')));
}

export function renderBudgets(budgets: Budget[], categories: Map<string, Category>): void {
  const list = byId('budgets');
  list.replaceChildren(
    ...budgets.map((b) => {
      const name = categories.get(b.categoryId)?.name ?? 'Category';
      const pct = percent(b.progress);
      const crossed = b.thresholds.filter((t) => Number(b.progress) >= Number(t));
      const state = Number(b.progress) >= 1 ? 'over' : crossed.length ? 'warn' : '';
      return h(
        'li',
        { 'data-budget-id': b.id },
        h('div', { class: 'row' }, h('span', { class: 'name' }, `${name} (${b.period})`), h('span', { class: 'amount' }, `${formatMoney(b.spent, b.currency)} of ${formatMoney(b.amount, b.currency)}`)),
        bar(`${name} budget used`, b.progress, b.thresholds, state),
        h('div', { class: 'meta' }, `${pct}% · ${b.periodStart} – ${b.periodEnd} · alerts at ${b.thresholds.map((t) => `${percent(t)}%`).join(', ')}`),
      );
    }),
  );
  if (!budgets.length) list.append(h('li', { class: 'meta' }, 'No budgets yet.'));
}

export function renderGoals(goals: Goal[]): void {
  const list = byId('goals');
  list.replaceChildren(
    ...goals.map((g) => {
      const done = g.achievedAt !== null || Number(g.progress) >= 1;
      const outlook = done ? 'achieved' : g.projectedDate ? `projected ${g.projectedDate}${g.onTrack ? ' · on track' : ' · behind'}` : 'no projection yet';
      return h(
        'li',
        { 'data-goal-id': g.id },
        h('div', { class: 'row' }, h('span', { class: 'name' }, g.name), h('span', { class: 'amount' }, `${formatMoney(g.currentAmount, g.currency)} of ${formatMoney(g.targetAmount, g.currency)}`)),
        bar(`${g.name} progress`, g.progress, [], done ? 'done' : ''),
        h('div', { class: 'meta' }, `${percent(g.progress)}% · target ${g.targetDate} · ${outlook}`),
      );
    }),
  );
  if (!goals.length) list.append(h('li', { class: 'meta' }, 'No goals yet.'));
}

export function describeNotification(n: Notification): string {
  const p = n.payload;
  const s = (k: string): string => {
    const v = p[k];
    return typeof v === 'string' ? v : '';
  };
  if (n.type === 'budget.alert') return `Budget ${s('categoryName') || ''} reached ${percent(s('threshold') || '0')}%: ${formatMoney(s('spent') || '0', s('currency'))} of ${formatMoney(s('amount') || '0', s('currency'))}`;
  if (n.type === 'goal.achieved') return `Goal “${s('name')}” achieved: ${formatMoney(s('currentAmount') || '0', s('currency'))}`;
  if (n.type === 'recurring.stopped') return `A recurring transaction stopped (${s('reason').replace(/_/g, ' ')})`;
  return n.type;
}

export function renderNotifications(list: Notification[]): void {
  const el = byId('notifications');
  el.replaceChildren(...list.map((n) => h('li', { 'data-notification-id': n.id }, h('div', {}, describeNotification(n)), h('div', { class: 'meta' }, new Date(n.createdAt).toLocaleString()))));
  if (!list.length) el.append(h('li', { class: 'meta' }, 'Nothing unread.'));
  byId('read-all').hidden = !list.length;
}

/** A toast that stays until dismissed (Escape or its button), announced by the live region. */
export function toast(text: string): void {
  const close = h('button', { type: 'button', 'aria-label': 'Dismiss' }, '×');
  const el = h('div', { class: 'toast', role: 'alert' }, h('p', {}, text), close);
  close.addEventListener('click', () => el.remove());
  byId('toasts').append(el);
}
