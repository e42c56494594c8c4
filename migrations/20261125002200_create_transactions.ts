import type { Knex } from 'knex';

/**
 * The ledger. A transaction is a header (what the user entered) plus one entry (posting) per
 * account it moves money in, each in that account's own currency: income +amount, expense
 * −amount, transfer −amount on the source and +toAmount on the destination. An account's balance
 * is its opening balance plus the sum of its entries.
 *
 * Invariants the database holds, whatever the code does:
 * - amounts are positive on the header and never zero on an entry;
 * - every account referenced (header and entries) belongs to the transaction's user and has the
 *   currency written next to it (composite FKs on accounts (id, user_id, currency));
 * - a transfer has both legs in two different accounts, no category, and equal amounts when the
 *   currencies are the same; an income/expense has no second leg;
 * - a category belongs to the same user and its kind equals the transaction type (composite FK
 *   through the generated `category_kind`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE transactions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      type text NOT NULL CONSTRAINT transactions_type_check CHECK (type IN ('income', 'expense', 'transfer')),
      account_id uuid NOT NULL,
      currency varchar(3) NOT NULL,
      amount numeric(20, 4) NOT NULL CONSTRAINT transactions_amount_positive CHECK (amount > 0),
      to_account_id uuid,
      to_currency varchar(3),
      to_amount numeric(20, 4) CONSTRAINT transactions_to_amount_positive CHECK (to_amount > 0),
      date date NOT NULL,
      category_id uuid,
      category_kind text GENERATED ALWAYS AS (CASE WHEN type IN ('income', 'expense') THEN type END) STORED,
      notes text CONSTRAINT transactions_notes_length CHECK (char_length(notes) <= 1000),
      recurring_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT transactions_id_user_key UNIQUE (id, user_id),
      CONSTRAINT transactions_account_fk FOREIGN KEY (account_id, user_id, currency)
        REFERENCES accounts (id, user_id, currency),
      CONSTRAINT transactions_to_account_fk FOREIGN KEY (to_account_id, user_id, to_currency)
        REFERENCES accounts (id, user_id, currency),
      CONSTRAINT transactions_category_fk FOREIGN KEY (category_id, user_id, category_kind)
        REFERENCES categories (id, user_id, kind),
      CONSTRAINT transactions_shape_check CHECK (
        (type = 'transfer'
          AND to_account_id IS NOT NULL AND to_currency IS NOT NULL AND to_amount IS NOT NULL
          AND to_account_id <> account_id
          AND category_id IS NULL
          AND (to_currency <> currency OR to_amount = amount))
        OR
        (type <> 'transfer' AND to_account_id IS NULL AND to_currency IS NULL AND to_amount IS NULL)
      )
    )
  `);
  // Keyset pagination (date desc, id desc), per user and per account leg.
  await knex.raw('CREATE INDEX transactions_user_date ON transactions (user_id, date DESC, id DESC)');
  await knex.raw('CREATE INDEX transactions_account_date ON transactions (account_id, date DESC, id DESC)');
  await knex.raw('CREATE INDEX transactions_to_account_date ON transactions (to_account_id, date DESC, id DESC) WHERE to_account_id IS NOT NULL');
  await knex.raw('CREATE INDEX transactions_category_date ON transactions (category_id, date DESC, id DESC) WHERE category_id IS NOT NULL');
  await knex.raw('CREATE INDEX transactions_recurring ON transactions (recurring_id) WHERE recurring_id IS NOT NULL');

  await knex.raw(`
    CREATE TABLE entries (
      id bigserial PRIMARY KEY,
      transaction_id uuid NOT NULL,
      user_id uuid NOT NULL,
      account_id uuid NOT NULL,
      currency varchar(3) NOT NULL,
      amount numeric(20, 4) NOT NULL CONSTRAINT entries_amount_nonzero CHECK (amount <> 0),
      CONSTRAINT entries_transaction_fk FOREIGN KEY (transaction_id, user_id)
        REFERENCES transactions (id, user_id) ON DELETE CASCADE,
      CONSTRAINT entries_account_fk FOREIGN KEY (account_id, user_id, currency)
        REFERENCES accounts (id, user_id, currency),
      CONSTRAINT entries_one_per_account UNIQUE (transaction_id, account_id)
    )
  `);
  await knex.raw('CREATE INDEX entries_account ON entries (account_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE entries');
  await knex.raw('DROP TABLE transactions');
}
