import type { Knex } from 'knex';

/**
 * The ledger's references to accounts and categories are checked at commit instead of at each
 * statement. Why: deleting a user cascades to accounts, categories, transactions and entries in one
 * statement, and PostgreSQL may run the "is this account still referenced?" check of a cascaded
 * account delete before the cascade through transactions has removed its entries — the erase then
 * fails although nothing dangles once the statement is done. Checked at commit, the invariant is
 * the same (no committed entry or transaction points at a missing or foreign account/category);
 * the services validate and lock those rows before writing, so in normal use nothing waits for commit.
 */
const FKS: [table: string, constraint: string][] = [
  ['transactions', 'transactions_account_fk'],
  ['transactions', 'transactions_to_account_fk'],
  ['transactions', 'transactions_category_fk'],
  ['entries', 'entries_account_fk'],
];

export async function up(knex: Knex): Promise<void> {
  for (const [table, constraint] of FKS) await knex.raw(`ALTER TABLE ${table} ALTER CONSTRAINT ${constraint} DEFERRABLE INITIALLY DEFERRED`);
}

export async function down(knex: Knex): Promise<void> {
  for (const [table, constraint] of FKS) await knex.raw(`ALTER TABLE ${table} ALTER CONSTRAINT ${constraint} NOT DEFERRABLE`);
}
