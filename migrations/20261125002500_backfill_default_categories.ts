import type { Knex } from 'knex';

/**
 * Data migration: users who registered before categories existed get the default set that new users
 * get at registration (kept in sync with server/categories/categories.defaults.ts by copy: a
 * migration must not change when the code does).
 */
const DEFAULTS: [string, 'income' | 'expense'][] = [
  ['Salary', 'income'],
  ['Other income', 'income'],
  ['Food', 'expense'],
  ['Rent', 'expense'],
  ['Transport', 'expense'],
  ['Utilities', 'expense'],
  ['Entertainment', 'expense'],
  ['Health', 'expense'],
  ['Shopping', 'expense'],
  ['Other', 'expense'],
];

export async function up(knex: Knex): Promise<void> {
  const values = DEFAULTS.map(() => '(?, ?)').join(', ');
  // Replayed on a later schema (a test does), erased users' tombstones get nothing: the database
  // refuses rows of an erased user (…_refuse_rows_of_erased_users), and they own nothing by design.
  const living = (await knex.schema.hasColumn('users', 'erased_at')) ? 'WHERE u.erased_at IS NULL' : '';
  await knex.raw(
    `INSERT INTO categories (user_id, name, kind)
     SELECT u.id, d.name, d.kind FROM users u CROSS JOIN (VALUES ${values}) AS d(name, kind) ${living}
     ON CONFLICT DO NOTHING`,
    DEFAULTS.flat(),
  );
}

export async function down(): Promise<void> {
  // Irreversible by design: after the back-fill, defaults and user-made categories look alike.
}
