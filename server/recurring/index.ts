import type { FeatureContext } from '../context.js';
import { registerRecurringRoutes } from './recurring.routes.js';
import type { RecurringService } from './recurring.service.js';

export { createRecurringService, toRuleView, occurrenceDate, MAX_CATCH_UP_YEARS } from './recurring.service.js';
export type { RecurringService, RecurringServiceDeps, RuleStoppedHook } from './recurring.service.js';
export { nthDate, todayInZone, FREQUENCIES, type Frequency } from './recurring.calendar.js';
export type { RuleView } from './recurring.schemas.js';

/** How often the sweep looks for due occurrences (UTC cron); it also runs once when an instance starts. */
export const SWEEP_CRON = '*/5 * * * *';

/**
 * Recurring transactions: rules, and the sweep that turns due occurrences into ledger transactions
 * (on the job queue: one instance per tick, and once at start to catch up after downtime).
 */
export function registerRecurring(ctx: FeatureContext, deps: { recurring: RecurringService }): void {
  ctx.hooks.userErased.push(async (trx, userId) => {
    await trx('recurring_occurrences').where({ user_id: userId }).del();
    await trx('recurring_rules').where({ user_id: userId }).del();
  });
  ctx.jobs.schedule('recurring.sweep', SWEEP_CRON, () => deps.recurring.sweep(), { runAtStart: true, expireInSeconds: 30 * 60 });
  registerRecurringRoutes(ctx, deps.recurring);
}
