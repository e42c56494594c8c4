import type { FeatureContext } from '../context.js';
import { registerGoalRoutes } from './goals.routes.js';
import type { GoalService } from './goals.service.js';

export { createGoalService, goalMaths } from './goals.service.js';
export type { GoalService, GoalServiceDeps } from './goals.service.js';
export type { GoalView } from './goals.schemas.js';

/**
 * Savings goals. The service's `onPosted` is a ledger listener (goal.progress with each balance
 * change of a linked account) and `onAccountRetired` an accounts listener (archive/delete unlinks).
 */
export function registerGoals(ctx: FeatureContext, deps: { goals: GoalService }): void {
  ctx.hooks.userErased.push(async (trx, userId) => {
    await trx('goals').where({ user_id: userId }).del();
  });
  registerGoalRoutes(ctx, deps.goals);
}
