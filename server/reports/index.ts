import type { RatesService } from '../rates/index.js';
import type { Feature, FeatureContext } from '../shared/feature.js';
import { createUsersService } from '../users/index.js';
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

/**
 * Glue for the current feature list (registered after rates): the smallest bridge to the typed
 * deps above, which the composition root will hand over directly.
 */
export const reportsFeature: Feature = {
  name: 'reports',
  register(ctx) {
    const rates = ctx.services.rates as RatesService | undefined;
    if (!rates) throw new Error('the reports feature needs the rates feature registered before it');
    registerReports(ctx, { rates, profiles: createUsersService({ db: ctx.db, clock: ctx.clock, audit: ctx.audit }) });
  },
};
