import type { Knex } from 'knex';

/**
 * A change counter for exchange rates: one row, bumped by a statement-level trigger after every
 * INSERT, UPDATE, DELETE or TRUNCATE on exchange_rates, whoever runs it (API, import, an operator's
 * SQL). The rates service caches computed rate series per version: reading the counter in the same
 * snapshot as the report tells it exactly whether the cached series still matches the rates the
 * report would see. (A timestamp would not: a transaction that commits later can carry an earlier one.)
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE exchange_rates_version (
      id boolean PRIMARY KEY DEFAULT true CONSTRAINT exchange_rates_version_one_row CHECK (id),
      version bigint NOT NULL DEFAULT 0
    )`);
  await knex.raw('INSERT INTO exchange_rates_version (id, version) VALUES (true, 0)');
  await knex.raw(`
    CREATE FUNCTION exchange_rates_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE exchange_rates_version SET version = version + 1;
      RETURN NULL;
    END $$`);
  await knex.raw(`
    CREATE TRIGGER exchange_rates_bump_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON exchange_rates
    FOR EACH STATEMENT EXECUTE FUNCTION exchange_rates_bump_version()`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER exchange_rates_bump_version ON exchange_rates');
  await knex.raw('DROP FUNCTION exchange_rates_bump_version()');
  await knex.raw('DROP TABLE exchange_rates_version');
}
