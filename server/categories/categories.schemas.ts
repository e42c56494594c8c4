import { z } from 'zod';
import { listQuery } from '../shared/http.js';
import { CATEGORY_KINDS } from './categories.model.js';

const name = z.string().trim().min(1, 'must not be empty').max(60);

export const createCategoryBody = z.object({ name, kind: z.enum(CATEGORY_KINDS) }).strict();
export const patchCategoryBody = z.object({ name: name.optional(), kind: z.enum(CATEGORY_KINDS).optional() }).strict();
export const listCategoriesQuery = z.object({ ...listQuery, kind: z.enum(CATEGORY_KINDS).optional() }).strict();

export const categoryView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: z.enum(CATEGORY_KINDS),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Category' });

export type CategoryView = z.output<typeof categoryView>;
export type CreateCategoryInput = z.output<typeof createCategoryBody>;
export type PatchCategoryInput = z.output<typeof patchCategoryBody>;
