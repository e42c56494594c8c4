import type { Feature } from '../shared/feature.js';
import { registerAccountRoutes } from './accounts.routes.js';
import { createAccountService } from './accounts.service.js';

export { Account, ACCOUNT_TYPES } from './accounts.model.js';
export type { AccountType } from './accounts.model.js';
export { adjustBalance, lockAccounts, toAccountView, createAccountService } from './accounts.service.js';
export type { AccountService, Actor } from './accounts.service.js';
export type { AccountView } from './accounts.schemas.js';

/** Accounts: where money is held. Balances are maintained by the transactions feature. */
export const accountsFeature: Feature = {
  name: 'accounts',
  register(ctx) {
    const service = createAccountService({ db: ctx.db, clock: ctx.clock, audit: ctx.audit });
    ctx.services.accounts = service;
    registerAccountRoutes(ctx, service);
  },
};
