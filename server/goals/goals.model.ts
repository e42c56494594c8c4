import { Model } from 'objection';

/** An account that left a goal: archived or deleted, and when. */
export interface UnlinkedAccount {
  accountId: string;
  reason: 'archived' | 'deleted';
  at: string;
}

export class Goal extends Model {
  static tableName = 'goals';

  id!: string;
  user_id!: string;
  name!: string;
  target_amount!: string;
  currency!: string;
  target_date!: string;
  achieved_at!: Date | null;
  unlinked_accounts!: UnlinkedAccount[];
  created_at!: Date;
  updated_at!: Date;
}
