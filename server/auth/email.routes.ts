import type { FeatureContext } from '../context.js';
import type { AuthUser } from '../shared/http.js';
import { createLimiter } from '../shared/rate-limit.js';
import { changeEmailBody, emailTokenBody } from './auth.schemas.js';
import type { EmailService } from './email.service.js';

/** Email change and verification (docs/api.md, Users): links to prove an address, owned by auth with the password check. */
export function registerEmailRoutes(ctx: FeatureContext, { email }: { email: EmailService }): void {
  // Each request mails two addresses: a user with the password still cannot flood an inbox.
  const mailLimiter = createLimiter(
    { db: ctx.db, redis: ctx.redis },
    { prefix: 'email-change', windowMs: 60 * 60_000, limit: 5, key: (req) => `user:${(req.res?.locals.user as AuthUser).id}` },
  );
  const r = ctx.registry;
  const tags = ['Users'];

  r.add({
    method: 'post',
    path: '/users/me/email',
    access: 'user',
    summary: 'Change your email: a confirmation link goes to the new address and a notice to the current one (your own address again: a new verification link)',
    tags,
    body: changeEmailBody,
    middleware: [mailLimiter],
    status: 202,
    responses: {
      202: { description: 'Links mailed; nothing changes until the new address is confirmed' },
      400: { description: 'Invalid input or a wrong password (`invalid_password`)' },
      409: { description: 'Another account uses this email (`email_taken`)' },
    },
    handler: async ({ body, write }) => {
      await email.requestChange(write, body);
    },
  });

  r.add({
    method: 'post',
    path: '/users/me/email/confirm',
    access: 'user',
    summary: 'Apply an email change with the token from the link mailed to the new address (single use, 24 h)',
    tags,
    body: emailTokenBody,
    status: 204,
    responses: {
      204: { description: 'The new address is the account email, and verified' },
      400: { description: 'Invalid input, or a token that is unknown, used, expired or not yours (`invalid_token`)' },
      409: { description: 'Another account took the address meanwhile (`email_taken`)' },
    },
    handler: async ({ body, write }) => {
      await email.confirmChange(write, body.token);
    },
  });

  r.add({
    method: 'post',
    path: '/users/me/email/verify',
    access: 'user',
    summary: 'Verify your address with the token from the mailed link (single use, 24 h)',
    tags,
    body: emailTokenBody,
    status: 204,
    responses: {
      204: { description: 'Verified' },
      400: { description: 'Invalid input, or a token that is unknown, used, expired, not yours or for an earlier address (`invalid_token`)' },
    },
    handler: async ({ body, write }) => {
      await email.verify(write, body.token);
    },
  });
}
