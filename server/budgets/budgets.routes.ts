import type { FeatureContext } from '../context.js';
import { page, uuidParam } from '../shared/http.js';
import { budgetView, createBudgetBody, historyQuery, historyView, listBudgetsQuery, patchBudgetBody } from './budgets.schemas.js';
import type { BudgetService } from './budgets.service.js';

export function registerBudgetRoutes(ctx: FeatureContext, budgets: BudgetService): void {
  const tags = ['Budgets'];
  ctx.registry.add({
    method: 'post',
    path: '/budgets',
    access: 'user',
    summary: 'Create a budget: a limit for one expense category per month or week, in your currency',
    tags,
    body: createBudgetBody,
    status: 201,
    responses: { 201: { description: 'The budget in its current period', schema: budgetView }, 409: { description: 'A budget for this category and period exists' } },
    handler: ({ body, write }) => budgets.create(write, body),
  });
  ctx.registry.add({
    method: 'get',
    path: '/budgets',
    access: 'user',
    summary: 'List budgets, each in its current period',
    tags,
    query: listBudgetsQuery,
    responses: { 200: { description: 'A page of budgets, oldest first', schema: page(budgetView) } },
    handler: ({ query, user }) => budgets.list(user.id, query),
  });
  ctx.registry.add({
    method: 'get',
    path: '/budgets/:id',
    access: 'user',
    summary: 'Get a budget in its current period',
    tags,
    params: uuidParam,
    responses: { 200: { description: 'The budget', schema: budgetView } },
    handler: ({ params, user }) => budgets.get(user.id, params.id),
  });
  ctx.registry.add({
    method: 'get',
    path: '/budgets/:id/history',
    access: 'user',
    summary: "A budget's past periods for a chart, oldest first (the current one last)",
    tags,
    params: uuidParam,
    query: historyQuery,
    responses: { 200: { description: 'The periods', schema: historyView } },
    handler: ({ params, query, user }) => budgets.history(user.id, params.id, query.periods),
  });
  ctx.registry.add({
    method: 'patch',
    path: '/budgets/:id',
    access: 'user',
    summary: "Change a budget's amount or thresholds",
    tags,
    params: uuidParam,
    body: patchBudgetBody,
    responses: { 200: { description: 'The budget', schema: budgetView } },
    handler: ({ params, body, write }) => budgets.patch(write, params.id, body),
  });
  ctx.registry.add({
    method: 'delete',
    path: '/budgets/:id',
    access: 'user',
    summary: 'Delete a budget',
    tags,
    params: uuidParam,
    status: 204,
    responses: { 204: { description: 'Deleted' } },
    handler: ({ params, write }) => budgets.remove(write, params.id),
  });
}

