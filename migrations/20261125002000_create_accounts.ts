import type { Knex } from 'knex';

/**
 * Accounts hold money in one currency, fixed at creation. `balance` is a cached sum kept exact by
 * the ledger: it always equals `opening_balance` + the sum of the account's entries (updated under a
 * row lock in the same transaction as the entries; `npm run ledger:verify` proves it).
 * (id, user_id, currency) is unique so that entries and transactions can reference an account
 * together with its owner and currency: the database then refuses a posting into another user's
 * account or in another currency.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('accounts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('type').notNullable();
    t.string('currency', 3).notNullable();
    t.decimal('opening_balance', 20, 4).notNullable().defaultTo(0);
    t.decimal('balance', 20, 4).notNullable().defaultTo(0);
    t.boolean('archived').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['id', 'user_id'], { indexName: 'accounts_id_user_key' });
    t.unique(['id', 'user_id', 'currency'], { indexName: 'accounts_id_user_currency_key' });
  });
  await knex.raw(`ALTER TABLE accounts ADD CONSTRAINT accounts_type_check CHECK (type IN ('bank', 'cash', 'credit', 'investment'))`);
  await knex.raw(`ALTER TABLE accounts ADD CONSTRAINT accounts_currency_check CHECK (currency ~ '^[A-Z]{3}$')`);
  await knex.raw(`ALTER TABLE accounts ADD CONSTRAINT accounts_name_check CHECK (char_length(btrim(name)) BETWEEN 1 AND 100)`);
  await knex.raw('CREATE INDEX accounts_user_created ON accounts (user_id, created_at, id)');
  // The currency of an account never changes: its entries and balance are in that currency.
  await knex.raw(`
    CREATE FUNCTION accounts_currency_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.currency IS DISTINCT FROM OLD.currency OR NEW.user_id IS DISTINCT FROM OLD.user_id THEN
        RAISE EXCEPTION 'an account''s currency and owner are fixed' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$;
  `);
  await knex.raw(`
    CREATE TRIGGER accounts_currency_fixed BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION accounts_currency_fixed();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('accounts');
  await knex.raw('DROP FUNCTION IF EXISTS accounts_currency_fixed()');
}
