import type { FeatureContext } from '../context.js';
import { registerUsersRoutes } from './users.routes.js';
import type { UsersService } from './users.service.js';

export { User, ROLES, toProfile, type Profile, type Role } from './users.model.js';
export { currencyCode, timeZoneName, personName, profileSchema, isTimeZone } from './users.schemas.js';
export { changeRole, createUsersService, notificationMailAddress, tombstoneUser, userCalendar, type UsersService, type UserCalendar } from './users.service.js';

export interface UsersFeatureDeps {
  users: UsersService;
}

/**
 * GET/PATCH /users/me. The routes under /users/me that check a password or mail a link (password
 * and email change, email verification) belong to auth, which owns credentials.
 */
export function registerUsers(ctx: FeatureContext, deps: UsersFeatureDeps): void {
  registerUsersRoutes(ctx, deps.users);
}
