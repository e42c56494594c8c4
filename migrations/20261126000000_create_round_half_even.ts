import type { Knex } from 'knex';

/**
 * `round_half_even(value, digits)`: NUMERIC rounded to `digits` fraction digits, ties to even —
 * the rounding the API uses for amounts (server/shared/money.ts, formatAmount). PostgreSQL's own
 * round() sends ties away from zero. The reports round their points in SQL with it, so a
 * 1,095-point net-worth series is not re-parsed and rounded in Node (~4 ms per request).
 * The result has exactly `digits` fraction digits, like formatAmount's strings. Not STRICT, so the
 * planner inlines it (a NULL still gives NULL), and a literal `digits` folds into constants.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION round_half_even(v numeric, digits int) RETURNS numeric
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
                 WHEN abs(v * power(10::numeric, digits) - trunc(v * power(10::numeric, digits))) = 0.5
                  AND trunc(v * power(10::numeric, digits)) % 2 = 0
                 THEN trunc(v, digits)
                 ELSE round(v, digits)
               END
      $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION round_half_even(numeric, int)');
}
