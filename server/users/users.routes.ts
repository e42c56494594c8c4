import type { FeatureContext } from '../context.js';
import type { createUsersService } from './users.service.js';
import { profileSchema, updateProfileBody } from './users.schemas.js';

export function registerUsersRoutes(ctx: FeatureContext, users: ReturnType<typeof createUsersService>): void {
  const r = ctx.registry;
  const tags = ['Users'];

  r.add({
    method: 'get',
    path: '/users/me',
    access: 'user',
    summary: 'Your profile',
    tags,
    responses: { 200: { description: 'Profile', schema: profileSchema } },
    handler: async ({ user }) => users.getProfile(user.id),
  });

  r.add({
    method: 'patch',
    path: '/users/me',
    access: 'user',
    summary: 'Change name, currency, time zone or notifyByEmail (other keys, e.g. role or email, are refused)',
    tags,
    body: updateProfileBody,
    responses: { 200: { description: 'Profile', schema: profileSchema } },
    handler: ({ body, write }) => users.updateProfile(write, body),
  });

}
