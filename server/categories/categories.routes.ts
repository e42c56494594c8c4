import type { FeatureContext } from '../context.js';
import { page, uuidParam } from '../shared/http.js';
import { categoryView, createCategoryBody, listCategoriesQuery, patchCategoryBody } from './categories.schemas.js';
import type { CategoryService } from './categories.service.js';

export function registerCategoryRoutes(ctx: FeatureContext, categories: CategoryService): void {
  const tags = ['Categories'];
  ctx.registry.add({
    method: 'get',
    path: '/categories',
    access: 'user',
    summary: 'List categories',
    tags,
    query: listCategoriesQuery,
    responses: { 200: { description: 'A page of categories, by name', schema: page(categoryView) } },
    handler: ({ query, user }) => categories.list(user.id, query),
  });
  ctx.registry.add({
    method: 'post',
    path: '/categories',
    access: 'user',
    summary: 'Create a category',
    tags,
    body: createCategoryBody,
    status: 201,
    responses: { 201: { description: 'The category', schema: categoryView }, 409: { description: 'A category with this name exists' } },
    handler: ({ body, write }) => categories.create(write, body),
  });
  ctx.registry.add({
    method: 'get',
    path: '/categories/:id',
    access: 'user',
    summary: 'Get a category',
    tags,
    params: uuidParam,
    responses: { 200: { description: 'The category', schema: categoryView } },
    handler: ({ params, user }) => categories.get(user.id, params.id),
  });
  ctx.registry.add({
    method: 'patch',
    path: '/categories/:id',
    access: 'user',
    summary: 'Rename a category or change its kind',
    tags,
    params: uuidParam,
    body: patchCategoryBody,
    responses: { 200: { description: 'The category', schema: categoryView }, 409: { description: 'Name taken, or kind change while transactions use it' } },
    handler: ({ params, body, write }) => categories.patch(write, params.id, body),
  });
  ctx.registry.add({
    method: 'delete',
    path: '/categories/:id',
    access: 'user',
    summary: 'Delete a category (its transactions become uncategorised)',
    tags,
    params: uuidParam,
    status: 204,
    responses: { 204: { description: 'Deleted' } },
    handler: ({ params, write }) => categories.remove(write, params.id),
  });
}
