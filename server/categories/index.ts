import type { Feature } from '../shared/feature.js';
import { registerCategoryRoutes } from './categories.routes.js';
import { createCategoryService, createDefaultCategories, type Uncategorise } from './categories.service.js';

export { Category, CATEGORY_KINDS } from './categories.model.js';
export type { CategoryKind } from './categories.model.js';
export { DEFAULT_CATEGORIES } from './categories.defaults.js';
export { createDefaultCategories, toCategoryView } from './categories.service.js';
export type { CategoryService, Uncategorise } from './categories.service.js';
export type { CategoryView } from './categories.schemas.js';

/** Categories; every new user gets the default set inside the registration transaction. */
export const categoriesFeature: Feature = {
  name: 'categories',
  register(ctx) {
    const service = createCategoryService({
      db: ctx.db,
      clock: ctx.clock,
      audit: ctx.audit,
      uncategorise: () => (ctx.services.ledger as { uncategoriseInTrx?: Uncategorise } | undefined)?.uncategoriseInTrx,
    });
    ctx.services.categories = service;
    ctx.hooks.userCreated.push((trx, user) => createDefaultCategories(trx, user.id));
    registerCategoryRoutes(ctx, service);
  },
};
