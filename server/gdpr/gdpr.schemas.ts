import { z } from 'zod';

export const exportQuery = z.strictObject({
  format: z.enum(['json', 'zip']).default('json').meta({ description: '`json` (default): one document; `zip`: one CSV per table plus the JSON' }),
});

export const eraseBody = z
  .object({
    password: z.string().min(1).max(1024).meta({ description: 'the current password: an access token alone cannot erase an account' }),
    totp: z.string().trim().min(1).max(64).optional().meta({ description: 'required while 2FA is on: a current 6-digit TOTP code (or a recovery code)' }),
    recoveryCode: z.string().trim().min(1).max(64).optional().meta({ description: 'a single-use recovery code, instead of totp' }),
  })
  .strict()
  .meta({ id: 'EraseAccountRequest' });
