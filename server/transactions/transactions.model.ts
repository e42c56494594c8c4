import { Model } from 'objection';

export const TRANSACTION_TYPES = ['income', 'expense', 'transfer'] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];
export const VERSION_ACTIONS = ['create', 'update', 'delete'] as const;
export type VersionAction = (typeof VERSION_ACTIONS)[number];

/** A transactions row as read by plain SQL (the fields of the model). */
export type TransactionRow = Pick<
  Transaction,
  'id' | 'user_id' | 'type' | 'account_id' | 'currency' | 'amount' | 'to_account_id' | 'to_currency' | 'to_amount' | 'date' | 'category_id' | 'notes' | 'recurring_id' | 'created_at' | 'updated_at'
>;

/** The columns of a TransactionRow, named (a prepared `*` breaks when a migration adds a column). */
export const TRANSACTION_COLUMNS = 'id, user_id, type, account_id, currency, amount, to_account_id, to_currency, to_amount, date, category_id, notes, recurring_id, created_at, updated_at';

/** The header of a ledger transaction: what the user entered. NUMERIC columns stay strings. */
export class Transaction extends Model {
  static tableName = 'transactions';

  id!: string;
  user_id!: string;
  type!: TransactionType;
  account_id!: string;
  currency!: string;
  amount!: string;
  to_account_id!: string | null;
  to_currency!: string | null;
  to_amount!: string | null;
  date!: string;
  category_id!: string | null;
  notes!: string | null;
  recurring_id!: string | null;
  created_at!: Date;
  updated_at!: Date;

  static jsonSchema = {
    type: 'object',
    required: ['user_id', 'type', 'account_id', 'currency', 'amount', 'date'],
    properties: {
      id: { type: 'string', format: 'uuid' },
      user_id: { type: 'string', format: 'uuid' },
      type: { type: 'string', enum: [...TRANSACTION_TYPES] },
      account_id: { type: 'string', format: 'uuid' },
      currency: { type: 'string', pattern: '^[A-Z]{3}$' },
      amount: { type: 'string' },
      to_account_id: { type: ['string', 'null'], format: 'uuid' },
      to_currency: { type: ['string', 'null'] },
      to_amount: { type: ['string', 'null'] },
      date: { type: 'string' },
      category_id: { type: ['string', 'null'], format: 'uuid' },
      notes: { type: ['string', 'null'], maxLength: 1000 },
      recurring_id: { type: ['string', 'null'], format: 'uuid' },
    },
  };
}

/** A posting: a signed amount in one account, in that account's currency. */
export class Entry extends Model {
  static tableName = 'entries';

  id!: string;
  transaction_id!: string;
  user_id!: string;
  account_id!: string;
  currency!: string;
  amount!: string;

  static jsonSchema = {
    type: 'object',
    required: ['transaction_id', 'user_id', 'account_id', 'currency', 'amount'],
    properties: {
      transaction_id: { type: 'string', format: 'uuid' },
      user_id: { type: 'string', format: 'uuid' },
      account_id: { type: 'string', format: 'uuid' },
      currency: { type: 'string' },
      amount: { type: 'string' },
    },
  };
}

/** One version of a transaction (create/update/delete), kept after the transaction is deleted. */
export class TransactionVersion extends Model {
  static tableName = 'transaction_versions';

  id!: string;
  transaction_id!: string;
  user_id!: string;
  version!: number;
  action!: VersionAction;
  actor_id!: string | null;
  at!: Date;
  before!: unknown;
  after!: unknown;

  static jsonSchema = {
    type: 'object',
    required: ['transaction_id', 'user_id', 'version', 'action', 'at'],
    properties: {
      transaction_id: { type: 'string', format: 'uuid' },
      user_id: { type: 'string', format: 'uuid' },
      version: { type: 'integer', minimum: 1 },
      action: { type: 'string', enum: [...VERSION_ACTIONS] },
      actor_id: { type: ['string', 'null'] },
    },
  };
}
