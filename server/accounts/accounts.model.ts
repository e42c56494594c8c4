import { Model } from 'objection';

/** An account row. Money columns are NUMERIC and come back from pg as strings; they stay strings. */
export const ACCOUNT_TYPES = ['bank', 'cash', 'credit', 'investment'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

/** An accounts row as read by plain SQL (the fields of the model). */
export type AccountRow = Pick<Account, 'id' | 'user_id' | 'name' | 'type' | 'currency' | 'opening_balance' | 'balance' | 'archived' | 'created_at' | 'updated_at'>;

/**
 * The columns of an AccountRow, named: a prepared statement with `*` would fail on every pooled
 * connection that prepared it once a migration adds a column ("cached plan must not change result type").
 */
export const ACCOUNT_COLUMNS = 'id, user_id, name, type, currency, opening_balance, balance, archived, created_at, updated_at';

export class Account extends Model {
  static tableName = 'accounts';

  id!: string;
  user_id!: string;
  name!: string;
  type!: AccountType;
  currency!: string;
  opening_balance!: string;
  balance!: string;
  archived!: boolean;
  created_at!: Date;
  updated_at!: Date;

  static jsonSchema = {
    type: 'object',
    required: ['user_id', 'name', 'type', 'currency'],
    properties: {
      id: { type: 'string', format: 'uuid' },
      user_id: { type: 'string', format: 'uuid' },
      name: { type: 'string', minLength: 1, maxLength: 100 },
      type: { type: 'string', enum: [...ACCOUNT_TYPES] },
      currency: { type: 'string', pattern: '^[A-Z]{3}$' },
      opening_balance: { type: 'string' },
      balance: { type: 'string' },
      archived: { type: 'boolean' },
    },
  };
}

