import type { Knex } from 'knex';

/**
 * Whether any transaction is filed under the category. The ledger owns the table: the categories
 * feature asks through this (a kind change is refused while the answer is yes). Beside the
 * service's `accountHasTransactions`, which answers the same for an account.
 */
export async function categoryHasTransactions(trx: Knex.Transaction, categoryId: string): Promise<boolean> {
  return (await trx('transactions').where({ category_id: categoryId }).first(trx.raw('1'))) !== undefined;
}
