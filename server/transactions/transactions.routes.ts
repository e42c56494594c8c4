import { z } from 'zod';
import { auditContext } from '../audit/index.js';
import type { FeatureContext } from '../shared/feature.js';
import { page, uuidParam, type AuthUser } from '../shared/http.js';
import { idempotencyHeaders, idempotencyKeyOf } from '../shared/idempotency.js';
import { RateLimitedError } from '../shared/errors.js';
import type { Request } from 'express';
import { exportQuery, historyView, listTransactionsQuery, transactionBody, transactionView } from './transactions.schemas.js';
import type { TransactionService, WriteContext } from './transactions.service.js';
import { streamExport } from './transactions.export.js';

const writeContext = (user: AuthUser, req: Request): WriteContext => ({ userId: user.id, actorId: user.id, audit: auditContext(req) });

export function registerTransactionRoutes(ctx: FeatureContext, transactions: TransactionService): void {
  const tags = ['Transactions'];
  // An export holds a pooled connection for as long as the client reads; cap how many run at once
  // on this instance so slow downloads can never starve the pool the API needs (429 beyond it).
  const maxExports = Math.max(1, Math.floor(ctx.config.databasePoolMax / 2));
  let runningExports = 0;
  ctx.registry.add({
    method: 'post',
    path: '/transactions',
    access: 'user',
    summary: 'Record an income, expense or transfer',
    tags,
    headers: idempotencyHeaders,
    body: transactionBody,
    responses: {
      201: { description: 'The transaction (also the replayed response for a repeated Idempotency-Key)', schema: transactionView },
      409: { description: 'Archived account, or Idempotency-Key reused with another body' },
    },
    handler: async ({ body, user, req, res }) => {
      const key = idempotencyKeyOf(req.headers['idempotency-key']);
      const result = await transactions.create(writeContext(user, req), body, key);
      if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
      res.status(result.status).json(result.body);
      return undefined;
    },
  });
  // Registered before /transactions/:id so that "export" is not taken for an id.
  ctx.registry.add({
    method: 'get',
    path: '/transactions/export',
    access: 'user',
    summary: 'Download every transaction (CSV or JSON), streamed',
    tags,
    query: exportQuery,
    responses: {
      200: { description: 'CSV with a header row (text/csv), or a JSON array', schema: z.string(), contentType: 'text/csv' },
      429: { description: 'Too many exports running on this instance (see Retry-After)' },
    },
    handler: async ({ query, user, req, res }) => {
      if (runningExports >= maxExports) throw new RateLimitedError(5, 'Too many exports are running; try again shortly.');
      // A data export is an audited event (API.md, Audit), recorded before the first byte leaves.
      await ctx.db.transaction((trx) =>
        ctx.audit.record(trx, {
          action: 'transaction.export',
          actorId: user.id,
          entityType: 'transaction',
          after: { format: query.format, from: query.from ?? null, to: query.to ?? null },
          ...auditContext(req),
        }),
      );
      runningExports++;
      res.on('close', () => {
        runningExports = Math.max(0, runningExports - 1);
      });
      await streamExport(ctx.db, ctx.logger, res, { userId: user.id, format: query.format, from: query.from, to: query.to, today: ctx.clock.now().toISOString().slice(0, 10) });
      return undefined;
    },
  });
  ctx.registry.add({
    method: 'get',
    path: '/transactions',
    access: 'user',
    summary: 'List transactions, newest date first',
    tags,
    query: listTransactionsQuery,
    responses: { 200: { description: 'A page of transactions', schema: page(transactionView) } },
    handler: ({ query, user }) => transactions.list(user.id, query),
  });
  ctx.registry.add({
    method: 'get',
    path: '/transactions/:id',
    access: 'user',
    summary: 'Get a transaction',
    tags,
    params: uuidParam,
    responses: { 200: { description: 'The transaction', schema: transactionView } },
    handler: ({ params, user }) => transactions.get(user.id, params.id),
  });
  ctx.registry.add({
    method: 'put',
    path: '/transactions/:id',
    access: 'user',
    summary: 'Replace a transaction',
    tags,
    params: uuidParam,
    body: transactionBody,
    responses: { 200: { description: 'The transaction', schema: transactionView }, 409: { description: 'An account involved is archived' } },
    handler: ({ params, body, user, req }) => transactions.update(writeContext(user, req), params.id, body),
  });
  ctx.registry.add({
    method: 'delete',
    path: '/transactions/:id',
    access: 'user',
    summary: 'Delete a transaction',
    tags,
    params: uuidParam,
    status: 204,
    responses: { 204: { description: 'Deleted' }, 409: { description: 'An account involved is archived' } },
    handler: async ({ params, user, req }) => {
      await transactions.remove(writeContext(user, req), params.id);
      return undefined;
    },
  });
  ctx.registry.add({
    method: 'get',
    path: '/transactions/:id/history',
    access: 'user',
    summary: 'Every version of a transaction, oldest first (also after delete)',
    tags,
    params: uuidParam,
    responses: { 200: { description: 'The versions', schema: historyView } },
    handler: ({ params, user }) => transactions.history(user.id, params.id),
  });
}
