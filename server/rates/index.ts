import type { Feature } from '../shared/feature.js';
import { registerRatesRoutes } from './rates.routes.js';
import { createRatesService, type RatesService } from './rates.service.js';

export { createRatesService, toRateView } from './rates.service.js';
export type { RatesService, RatesServiceDeps, RatesWriteContext, Conversion, RateSeries } from './rates.service.js';
export { dedupeMissing, applyRate } from './rates.convert.js';
export type { MissingRate, Rate, RateSegment } from './rates.convert.js';
export { importEcbCsv, parseEcbCsv, EcbImportError } from './rates.import.js';
export type { EcbImportResult } from './rates.import.js';
export { ExchangeRate } from './rates.model.js';

/**
 * Exchange rates: PUT /rates (admin) and GET /rates, plus the conversion service other features
 * use (`createRatesService(...).convert / sum / series`). Registers the routes against a service
 * built once by the composition root.
 */
export function registerRates(ctx: Parameters<Feature['register']>[0], rates: RatesService): void {
  registerRatesRoutes(ctx, rates);
}

/**
 * Glue for the current feature list (until app.ts builds services in plain order): builds the
 * service and publishes it as `ctx.services.rates` for the features registered after it.
 */
export const ratesFeature: Feature = {
  name: 'rates',
  register(ctx) {
    const rates = createRatesService({ db: ctx.db, clock: ctx.clock, audit: ctx.audit });
    ctx.services.rates = rates;
    registerRates(ctx, rates);
  },
};
