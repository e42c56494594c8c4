import type { Knex } from 'knex';

/**
 * Exchange rates: 1 `base` = `rate` `quote` on `date` (a calendar date, as the ECB publishes them).
 * One row per (base, quote, date): a second PUT, or a re-import, replaces the rate of that day.
 * Rates are shared by every user (market data, not personal data) and written only by admins and
 * the operator's import. `rate` is exact NUMERIC with at most 12 fraction digits, always > 0, so a
 * conversion can never divide by zero or flip a sign. The primary key serves the only access
 * paths: "the latest rate of a pair on or before a date" and "the pair's rates in a date range".
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE exchange_rates (
      base varchar(3) NOT NULL CONSTRAINT exchange_rates_base_check CHECK (base ~ '^[A-Z]{3}$'),
      quote varchar(3) NOT NULL CONSTRAINT exchange_rates_quote_check CHECK (quote ~ '^[A-Z]{3}$'),
      date date NOT NULL,
      rate numeric(24, 12) NOT NULL CONSTRAINT exchange_rates_rate_positive CHECK (rate > 0),
      source text NOT NULL DEFAULT 'manual' CONSTRAINT exchange_rates_source_check CHECK (source IN ('manual', 'ecb')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT exchange_rates_pkey PRIMARY KEY (base, quote, date),
      CONSTRAINT exchange_rates_distinct_currencies CHECK (base <> quote)
    )
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE exchange_rates');
}
