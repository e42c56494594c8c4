import type { FeatureContext } from '../context.js';
import { page, uuidParam } from '../shared/http.js';
import { createRuleBody, listRulesQuery, patchRuleBody, ruleView } from './recurring.schemas.js';
import type { RecurringService } from './recurring.service.js';

export function registerRecurringRoutes(ctx: FeatureContext, recurring: RecurringService): void {
  const tags = ['Recurring'];
  ctx.registry.add({
    method: 'post',
    path: '/recurring',
    access: 'user',
    summary: 'Create a recurring rule (its occurrences up to today are created at once)',
    tags,
    idempotent: true,
    body: createRuleBody,
    status: 201,
    responses: {
      201: { description: 'The rule (also the replayed response for a repeated Idempotency-Key)', schema: ruleView },
      409: { description: 'Archived account, or Idempotency-Key reused with another body' },
    },
    handler: async ({ body, write, idempotencyKey, res }) => {
      const result = await recurring.create(write, body, idempotencyKey);
      if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
      return result.body;
    },
  });
  ctx.registry.add({
    method: 'get',
    path: '/recurring',
    access: 'user',
    summary: 'List recurring rules (active unless status=ended), newest first',
    tags,
    query: listRulesQuery,
    responses: { 200: { description: 'A page of rules', schema: page(ruleView) } },
    handler: ({ query, user }) => recurring.list(user.id, query),
  });
  ctx.registry.add({
    method: 'get',
    path: '/recurring/:id',
    access: 'user',
    summary: 'Get a recurring rule',
    tags,
    params: uuidParam,
    responses: { 200: { description: 'The rule', schema: ruleView } },
    handler: ({ params, user }) => recurring.get(user.id, params.id),
  });
  ctx.registry.add({
    method: 'patch',
    path: '/recurring/:id',
    access: 'user',
    summary: 'Change a rule from its next occurrence on (past occurrences stay)',
    tags,
    params: uuidParam,
    body: patchRuleBody,
    responses: { 200: { description: 'The rule', schema: ruleView }, 409: { description: 'The rule has ended, or the account is archived' } },
    handler: ({ params, body, write }) => recurring.patch(write, params.id, body),
  });
  ctx.registry.add({
    method: 'delete',
    path: '/recurring/:id',
    access: 'user',
    summary: 'End a rule (it stays readable with status ended; past occurrences stay)',
    tags,
    params: uuidParam,
    status: 204,
    responses: { 204: { description: 'Ended' } },
    handler: ({ params, write }) => recurring.remove(write, params.id),
  });
}
