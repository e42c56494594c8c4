import type { RatesService } from '../rates/index.js';
import type { FeatureContext } from '../context.js';
import { registerReportsRoutes } from './reports.routes.js';
import { createReportsService, type ReportProfiles } from './reports.service.js';

export { createReportsService, largestRemainderShares } from './reports.service.js';
export type { ReportsService, ReportsServiceDeps, ReportProfiles } from './reports.service.js';

/** What the reports feature needs from the rest of the app. */
export interface ReportsDeps {
  rates: RatesService;
  /** The reader's currency and time zone (the users feature). */
  profiles: ReportProfiles;
}

export function registerReports(ctx: FeatureContext, deps: ReportsDeps): void {
  registerReportsRoutes(ctx, createReportsService({ db: ctx.db, clock: ctx.clock, rates: deps.rates, profiles: deps.profiles }));
}
