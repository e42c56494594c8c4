import type { FeatureContext } from '../context.js';
import { registerCategoryRoutes } from './categories.routes.js';
import { createDefaultCategories, type CategoryService } from './categories.service.js';

export { Category, CATEGORY_KINDS } from './categories.model.js';
export type { CategoryKind } from './categories.model.js';
export { DEFAULT_CATEGORIES } from './categories.defaults.js';
export { createCategoryService, createDefaultCategories, categoryKindForWrite, categoryNames, lockCategory, toCategoryView } from './categories.service.js';
export type { CategoryService, Uncategorise } from './categories.service.js';
export type { CategoryView } from './categories.schemas.js';

/** Categories; every new user gets the default set inside the registration transaction. */
export function registerCategories(ctx: FeatureContext, deps: { categories: CategoryService }): void {
  ctx.hooks.userCreated.push((trx, user) => createDefaultCategories(trx, user.id));
  registerCategoryRoutes(ctx, deps.categories);
}
