import type { FeatureContext } from '../context.js';
import { page } from '../shared/http.js';
import { listRatesQuery, putRateBody, rateView } from './rates.schemas.js';
import type { RatesService } from './rates.service.js';

export function registerRatesRoutes(ctx: FeatureContext, rates: RatesService): void {
  const tags = ['Exchange rates'];
  ctx.registry.add({
    method: 'put',
    path: '/rates',
    access: 'admin',
    summary: 'Store the rate of a currency pair on a date (replaces that day\u2019s rate)',
    tags,
    body: putRateBody,
    responses: { 200: { description: 'The stored rate', schema: rateView } },
    handler: ({ body, user, facts }) => rates.put({ actorId: user.id, audit: facts }, body),
  });
  ctx.registry.add({
    method: 'get',
    path: '/rates',
    access: 'user',
    summary: 'List stored exchange rates, newest date first',
    tags,
    query: listRatesQuery,
    responses: { 200: { description: 'A page of rates', schema: page(rateView) } },
    handler: ({ query }) => rates.list(query),
  });
}
