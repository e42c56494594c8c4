import { Model } from 'objection';
import type { BudgetPeriod } from './budgets.periods.js';

export class Budget extends Model {
  static tableName = 'budgets';

  id!: string;
  user_id!: string;
  category_id!: string;
  period!: BudgetPeriod;
  amount!: string;
  currency!: string;
  /** NUMERIC[] as PostgreSQL returns it (strings, ascending). */
  thresholds!: string[];
  created_at!: Date;
  updated_at!: Date;
}
