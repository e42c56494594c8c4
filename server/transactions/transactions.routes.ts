import { z } from 'zod';
import type { FeatureContext } from '../context.js';
import { page, uuidParam } from '../shared/http.js';
import { exportQuery, historyView, listTransactionsQuery, transactionBody, transactionView } from './transactions.schemas.js';
import type { TransactionService } from './transactions.service.js';
import { streamExport } from './transactions.export.js';
import { requestFacts } from '../shared/write-context.js';

export function registerTransactionRoutes(ctx: FeatureContext, transactions: TransactionService): void {
  const tags = ['Transactions'];
  ctx.registry.add({
    method: 'post',
    path: '/transactions',
    access: 'user',
    summary: 'Record an income, expense or transfer',
    tags,
    idempotent: true,
    body: transactionBody,
    status: 201,
    responses: {
      201: { description: 'The transaction (also the replayed response for a repeated Idempotency-Key)', schema: transactionView },
      409: { description: 'Archived account, or Idempotency-Key reused with another body' },
    },
    handler: async ({ body, write, idempotencyKey, res }) => {
      const result = await transactions.create(write, body, idempotencyKey);
      if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
      return result.body;
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
      200: {
        description: 'CSV with a header row (text/csv), or a JSON array (`format=json`)',
        schema: z.string(),
        contentType: 'text/csv',
        alternatives: [{ contentType: 'application/json', schema: z.array(transactionView) }],
      },
      429: { description: 'You already run 2 downloads, or the instance is at its download limit (see Retry-After)' },
    },
    handler: async ({ query, user, req, res }) => {
      // The slot is taken before the first await (and given back when the response closes).
      const release = ctx.downloads.acquire(user.id, res);
      try {
        // A data export is an audited event (docs/api.md, Audit), recorded before the first byte leaves.
        await ctx.db.transaction((trx) =>
          ctx.audit.record(trx, {
            action: 'transaction.export',
            actorId: user.id,
            entityType: 'transaction',
            after: { format: query.format, from: query.from ?? null, to: query.to ?? null },
            ...requestFacts(req),
          }),
        );
        await streamExport(ctx.downloads.db(), ctx.logger, res, { userId: user.id, format: query.format, from: query.from, to: query.to, today: ctx.clock.now().toISOString().slice(0, 10) });
      } finally {
        release();
      }
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
    handler: ({ params, body, write }) => transactions.update(write, params.id, body),
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
    handler: ({ params, write }) => transactions.remove(write, params.id),
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
