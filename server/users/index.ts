import type { AuthService } from '../auth/index.js';
import type { FeatureContext } from '../context.js';
import { registerUsersRoutes } from './users.routes.js';
import type { UsersService } from './users.service.js';

export { User, ROLES, toProfile, type Profile, type Role } from './users.model.js';
export { currencyCode, timeZoneName, personName, profileSchema, isTimeZone } from './users.schemas.js';
export { changeRole, createUsersService, type UsersService } from './users.service.js';

export interface UsersFeatureDeps {
  users: UsersService;
  /** The password change lives with the passwords it checks. */
  auth: AuthService;
}

/** GET/PATCH /users/me and POST /users/me/password. */
export function registerUsers(ctx: FeatureContext, deps: UsersFeatureDeps): void {
  registerUsersRoutes(ctx, deps.users, deps.auth);
}
