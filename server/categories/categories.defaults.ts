import type { CategoryKind } from './categories.model.js';

/** The set every new user starts with (the back-fill migration holds a frozen copy). */
export const DEFAULT_CATEGORIES: readonly { name: string; kind: CategoryKind }[] = [
  { name: 'Salary', kind: 'income' },
  { name: 'Other income', kind: 'income' },
  { name: 'Food', kind: 'expense' },
  { name: 'Rent', kind: 'expense' },
  { name: 'Transport', kind: 'expense' },
  { name: 'Utilities', kind: 'expense' },
  { name: 'Entertainment', kind: 'expense' },
  { name: 'Health', kind: 'expense' },
  { name: 'Shopping', kind: 'expense' },
  { name: 'Other', kind: 'expense' },
];
