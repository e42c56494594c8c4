import type { Knex } from 'knex';

/**
 * Recurring rules and their occurrences.
 *
 * Exactly once: an occurrence is a (rule_id, occurrence_date) row, unique, written in the same
 * database transaction as its ledger transaction and the rule's progress (`next_index`). Its
 * `transaction_id` becomes NULL when the user deletes that transaction, and the row stays — so the
 * occurrence is never created again.
 *
 * References the user can remove (accounts, a category) are SET NULL rather than blocking the
 * user's delete; the next sweep sees the hole and ends the rule with a reason.
 * `category_required` remembers that the template had a category, so a deleted one is told apart
 * from "no category".
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE recurring_rules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      type text NOT NULL CHECK (type IN ('income', 'expense', 'transfer')),
      account_id uuid REFERENCES accounts(id) ON DELETE SET NULL,
      currency char(3) NOT NULL,
      amount numeric(20, 4) NOT NULL CHECK (amount > 0),
      to_account_id uuid REFERENCES accounts(id) ON DELETE SET NULL,
      to_currency char(3),
      to_amount numeric(20, 4) CHECK (to_amount > 0),
      category_id uuid REFERENCES categories(id) ON DELETE SET NULL,
      category_required boolean NOT NULL DEFAULT false,
      notes text,
      frequency text NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly', 'yearly')),
      "interval" integer NOT NULL CHECK ("interval" BETWEEN 1 AND 366),
      start_date date NOT NULL,
      end_date date CHECK (end_date >= start_date),
      "count" integer CHECK ("count" >= 1),
      anchor_date date NOT NULL,
      anchor_index integer NOT NULL DEFAULT 0 CHECK (anchor_index >= 0),
      next_index integer NOT NULL DEFAULT 0 CHECK (next_index >= anchor_index),
      next_date date,
      occurrences_created integer NOT NULL DEFAULT 0 CHECK (occurrences_created >= 0),
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
      ended_at timestamptz,
      ended_reason text CHECK (ended_reason IN ('deleted', 'count_reached', 'end_date_passed', 'account_archived', 'category_deleted')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT recurring_rules_end_xor_count CHECK (end_date IS NULL OR "count" IS NULL),
      CONSTRAINT recurring_rules_transfer CHECK ((type = 'transfer') = (to_currency IS NOT NULL)),
      CONSTRAINT recurring_rules_ended CHECK (
        (status = 'active' AND ended_at IS NULL AND ended_reason IS NULL AND next_date IS NOT NULL)
        OR (status = 'ended' AND ended_at IS NOT NULL AND ended_reason IS NOT NULL AND next_date IS NULL))
    )`);
  // The sweep's scan: active rules whose next occurrence is due.
  await knex.raw(`CREATE INDEX recurring_rules_due ON recurring_rules (next_date) WHERE status = 'active'`);
  await knex.raw('CREATE INDEX recurring_rules_user_list ON recurring_rules (user_id, status, created_at DESC, id DESC)');
  await knex.raw(`
    CREATE TABLE recurring_occurrences (
      rule_id uuid NOT NULL REFERENCES recurring_rules(id) ON DELETE CASCADE,
      occurrence_date date NOT NULL,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      transaction_id uuid REFERENCES transactions(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (rule_id, occurrence_date)
    )`);
  await knex.raw('CREATE INDEX recurring_occurrences_transaction ON recurring_occurrences (transaction_id) WHERE transaction_id IS NOT NULL');
  await knex.raw('CREATE INDEX recurring_occurrences_user ON recurring_occurrences (user_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE recurring_occurrences');
  await knex.raw('DROP TABLE recurring_rules');
}
