import type { FeatureContext } from '../context.js';
import { registerRatesRoutes } from './rates.routes.js';
import type { RatesService } from './rates.service.js';

export { createRatesService, toRateView } from './rates.service.js';
export type { RatesService, RatesServiceDeps, RatesWriteContext, Conversion, RateSeries } from './rates.service.js';
export { dedupeMissing, applyRate } from './rates.convert.js';
export type { MissingRate, Rate, RateSegment } from './rates.convert.js';
export { importEcbCsv, parseEcbCsv, EcbImportError } from './rates.import.js';
export type { EcbImportResult } from './rates.import.js';
export { ExchangeRate } from './rates.model.js';

export interface RatesDeps {
  rates: RatesService;
}

/**
 * Exchange rates: PUT /rates (admin) and GET /rates. The conversion service other features use
 * (`convert`, `sum`, `series`) is built once by the composition root with `createRatesService`.
 */
export function registerRates(ctx: FeatureContext, deps: RatesDeps): void {
  registerRatesRoutes(ctx, deps.rates);
}
