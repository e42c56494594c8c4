import { Model } from 'objection';
import type { Frequency } from './recurring.calendar.js';

export const ENDED_REASONS = ['deleted', 'count_reached', 'end_date_passed', 'account_archived', 'category_deleted'] as const;
export type EndedReason = (typeof ENDED_REASONS)[number];
export const RULE_STATUSES = ['active', 'ended'] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

/**
 * A recurring rule: a transaction template and a calendar. Progress is `next_index` (how many
 * occurrences exist); occurrence n ≥ anchor_index falls on anchor_date + (n − anchor_index) ×
 * interval units (a PATCH of the cadence re-anchors at the next occurrence). NUMERIC stays a string.
 */
export class RecurringRule extends Model {
  static tableName = 'recurring_rules';

  id!: string;
  user_id!: string;
  type!: 'income' | 'expense' | 'transfer';
  account_id!: string | null;
  currency!: string;
  amount!: string;
  to_account_id!: string | null;
  to_currency!: string | null;
  to_amount!: string | null;
  category_id!: string | null;
  category_required!: boolean;
  notes!: string | null;
  frequency!: Frequency;
  interval!: number;
  start_date!: string;
  end_date!: string | null;
  count!: number | null;
  anchor_date!: string;
  anchor_index!: number;
  next_index!: number;
  next_date!: string | null;
  occurrences_created!: number;
  status!: RuleStatus;
  ended_at!: Date | null;
  ended_reason!: EndedReason | null;
  created_at!: Date;
  updated_at!: Date;
}

/** One occurrence of a rule, created exactly once; `transaction_id` is null once the user deleted it. */
export class RecurringOccurrence extends Model {
  static tableName = 'recurring_occurrences';
  static idColumn = ['rule_id', 'occurrence_date'];

  rule_id!: string;
  occurrence_date!: string;
  user_id!: string;
  transaction_id!: string | null;
  created_at!: Date;
}
