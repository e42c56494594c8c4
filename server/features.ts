import { authFeature } from './auth/index.js';
import { usersFeature } from './users/index.js';
import { accountsFeature } from './accounts/index.js';
import { categoriesFeature } from './categories/index.js';
import { transactionsFeature } from './transactions/index.js';
import { auditFeature } from './audit/index.js';
import type { Feature } from './shared/feature.js';

/**
 * Every feature the app serves, in registration order. A new feature adds its folder under
 * server/ and one line here.
 */
export const features: Feature[] = [authFeature, usersFeature, accountsFeature, categoriesFeature, transactionsFeature, auditFeature];
