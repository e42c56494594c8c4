import type { FeatureContext } from '../context.js';
import { page, uuidParam } from '../shared/http.js';
import { createGoalBody, goalView, listGoalsQuery, patchGoalBody } from './goals.schemas.js';
import type { GoalService } from './goals.service.js';

export function registerGoalRoutes(ctx: FeatureContext, goals: GoalService): void {
  const tags = ['Goals'];
  ctx.registry.add({
    method: 'post',
    path: '/goals',
    access: 'user',
    summary: 'Create a savings goal over some of your accounts',
    tags,
    body: createGoalBody,
    status: 201,
    responses: { 201: { description: 'The goal', schema: goalView }, 409: { description: 'A linked account is archived' } },
    handler: ({ body, write }) => goals.create(write, body),
  });
  ctx.registry.add({
    method: 'get',
    path: '/goals',
    access: 'user',
    summary: 'List goals with progress',
    tags,
    query: listGoalsQuery,
    responses: { 200: { description: 'A page of goals, oldest first', schema: page(goalView) } },
    handler: ({ query, user }) => goals.list(user.id, query),
  });
  ctx.registry.add({
    method: 'get',
    path: '/goals/:id',
    access: 'user',
    summary: 'Get a goal with progress',
    tags,
    params: uuidParam,
    responses: { 200: { description: 'The goal', schema: goalView } },
    handler: ({ params, user }) => goals.get(user.id, params.id),
  });
  ctx.registry.add({
    method: 'patch',
    path: '/goals/:id',
    access: 'user',
    summary: "Change a goal's name, target, date or accounts",
    tags,
    params: uuidParam,
    body: patchGoalBody,
    responses: { 200: { description: 'The goal', schema: goalView }, 409: { description: 'A linked account is archived' } },
    handler: ({ params, body, write }) => goals.patch(write, params.id, body),
  });
  ctx.registry.add({
    method: 'delete',
    path: '/goals/:id',
    access: 'user',
    summary: 'Delete a goal (its accounts stay)',
    tags,
    params: uuidParam,
    status: 204,
    responses: { 204: { description: 'Deleted' } },
    handler: ({ params, write }) => goals.remove(write, params.id),
  });
}
