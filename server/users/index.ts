import type { AuthService } from '../auth/index.js';
import type { Feature } from '../shared/feature.js';
import { registerUsersRoutes } from './users.routes.js';
import { createUsersService } from './users.service.js';

export { User, toProfile, type Profile } from './users.model.js';
export { currencyCode, timeZoneName, personName, profileSchema, isTimeZone } from './users.schemas.js';
export { changeRole, createUsersService } from './users.service.js';

/** GET/PATCH /users/me and POST /users/me/password. Registers after auth (it uses `ctx.services.auth`). */
export const usersFeature: Feature = {
  name: 'users',
  register(ctx) {
    const auth = ctx.services.auth as AuthService | undefined;
    if (!auth) throw new Error('the users feature needs the auth feature registered before it');
    registerUsersRoutes(ctx, createUsersService({ db: ctx.db, clock: ctx.clock, audit: ctx.audit }), auth);
  },
};
