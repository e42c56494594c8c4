import type { FeatureContext } from '../context.js';
import { page, uuidParam } from '../shared/http.js';
import { accountView, createAccountBody, listAccountsQuery, patchAccountBody } from './accounts.schemas.js';
import type { AccountService } from './accounts.service.js';

export function registerAccountRoutes(ctx: FeatureContext, accounts: AccountService): void {
  const tags = ['Accounts'];
  ctx.registry.add({
    method: 'post',
    path: '/accounts',
    access: 'user',
    summary: 'Create an account',
    tags,
    body: createAccountBody,
    status: 201,
    responses: { 201: { description: 'The account', schema: accountView } },
    handler: ({ body, write }) => accounts.create(write, body),
  });
  ctx.registry.add({
    method: 'get',
    path: '/accounts',
    access: 'user',
    summary: 'List accounts with balances',
    tags,
    query: listAccountsQuery,
    responses: { 200: { description: 'A page of accounts', schema: page(accountView) } },
    handler: ({ query, user }) => accounts.list(user.id, query),
  });
  ctx.registry.add({
    method: 'get',
    path: '/accounts/:id',
    access: 'user',
    summary: 'Get an account',
    tags,
    params: uuidParam,
    responses: { 200: { description: 'The account', schema: accountView } },
    handler: ({ params, user }) => accounts.get(user.id, params.id),
  });
  ctx.registry.add({
    method: 'patch',
    path: '/accounts/:id',
    access: 'user',
    summary: 'Rename or archive an account',
    tags,
    params: uuidParam,
    body: patchAccountBody,
    responses: { 200: { description: 'The account', schema: accountView } },
    handler: ({ params, body, write }) => accounts.patch(write, params.id, body),
  });
  ctx.registry.add({
    method: 'delete',
    path: '/accounts/:id',
    access: 'user',
    summary: 'Delete an account without transactions',
    tags,
    params: uuidParam,
    status: 204,
    responses: { 204: { description: 'Deleted' }, 409: { description: 'The account still has transactions' } },
    handler: ({ params, write }) => accounts.remove(write, params.id),
  });
}
