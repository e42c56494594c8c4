import type { FeatureContext } from '../context.js';
import { registerBudgetRoutes } from './budgets.routes.js';
import type { BudgetService } from './budgets.service.js';

export { createBudgetService, DEFAULT_THRESHOLDS } from './budgets.service.js';
export type { BudgetService, BudgetServiceDeps } from './budgets.service.js';
export { checkBudgetTotals } from './budgets.check.js';
export type { BudgetTotalsCheckResult } from './budgets.check.js';
export { BUDGET_PERIODS, periodStartOf, periodEndOf } from './budgets.periods.js';
export type { BudgetPeriod } from './budgets.periods.js';
export type { BudgetView } from './budgets.schemas.js';

/**
 * Budgets with threshold alerts. The service's `onPosted` is one of the ledger's listeners (the
 * composition root hands it to createTransactionService), so totals and alerts commit with each write.
 */
export function registerBudgets(ctx: FeatureContext, deps: { budgets: BudgetService }): void {
  // GDPR erase: totals and alert records go with their budgets (cascade).
  ctx.hooks.userErased.push(async (trx, userId) => {
    await trx('budgets').where({ user_id: userId }).del();
  });
  registerBudgetRoutes(ctx, deps.budgets);
}
