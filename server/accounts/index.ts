import type { FeatureContext } from '../context.js';
import { registerAccountRoutes } from './accounts.routes.js';
import type { AccountService } from './accounts.service.js';

export { Account, ACCOUNT_TYPES } from './accounts.model.js';
export type { AccountType } from './accounts.model.js';
export { accountBalances, adjustBalance, lockAccounts, toAccountView, createAccountService } from './accounts.service.js';
export type { AccountService, AccountRetiredListener } from './accounts.service.js';
export type { AccountView } from './accounts.schemas.js';

/** Accounts: where money is held. Balances are maintained by the ledger (transactions). */
export function registerAccounts(ctx: FeatureContext, deps: { accounts: AccountService }): void {
  registerAccountRoutes(ctx, deps.accounts);
}
