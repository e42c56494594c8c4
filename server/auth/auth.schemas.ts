import { z } from 'zod';
import { currencyCode, emailInput, personName, timeZoneName } from '../shared/profile-fields.js';
import { profileSchema } from '../users/index.js';
import { PASSWORD_MAX, PASSWORD_MIN } from './strength.js';

export { emailInput };

export const newPassword = z
  .string()
  .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`)
  .meta({ description: `${PASSWORD_MIN}–${PASSWORD_MAX} characters, not a common or guessable password` });

const anyPassword = z.string().min(1).max(1024);

export const registerBody = z
  .object({
    email: emailInput,
    password: newPassword,
    name: personName.optional(),
    currency: currencyCode.default('USD'),
    timeZone: timeZoneName.default('UTC'),
  })
  .strict()
  .meta({ id: 'RegisterRequest' });

export const loginBody = z
  .object({
    email: z.string().trim().max(254).toLowerCase(),
    password: anyPassword,
    totp: z.string().trim().max(16).optional().meta({ description: 'current 6-digit TOTP code when 2FA is on' }),
    recoveryCode: z.string().trim().max(64).optional().meta({ description: 'a single-use recovery code, instead of totp' }),
  })
  .strict()
  .meta({ id: 'LoginRequest' });

export const refreshBody = z.object({ refreshToken: z.string().min(1).max(512) }).strict().meta({ id: 'RefreshRequest' });
export const logoutBody = z.object({ refreshToken: z.string().min(1).max(512).optional() }).strict().meta({ id: 'LogoutRequest' });
export const forgotBody = z.object({ email: z.string().trim().max(254).toLowerCase() }).strict().meta({ id: 'ForgotPasswordRequest' });
export const resetBody = z.object({ token: z.string().min(1).max(512), newPassword }).strict().meta({ id: 'ResetPasswordRequest' });
export const enable2faBody = z
  .object({
    code: z.string().trim().min(1).max(64).meta({ description: 'a current code from the authenticator the setup secret was added to' }),
    password: anyPassword.meta({ description: 'the current password: an access token alone cannot turn 2FA on' }),
  })
  .strict()
  .meta({ id: 'TwoFactorEnableRequest' });
export const disable2faBody = z
  .object({ password: anyPassword, code: z.string().trim().min(1).max(64).meta({ description: 'a TOTP code or a recovery code' }) })
  .strict()
  .meta({ id: 'TwoFactorDisableRequest' });

export const userResponse = z.object({ user: profileSchema }).meta({ id: 'UserResponse' });

export const tokenResponse = z
  .object({
    accessToken: z.string().meta({ description: 'JWT (HS256), valid for expiresIn seconds (at most 15 minutes)' }),
    refreshToken: z.string().meta({ description: 'opaque, single use: each refresh returns a new one' }),
    tokenType: z.literal('Bearer'),
    expiresIn: z.number().int(),
    user: profileSchema,
  })
  .meta({ id: 'TokenResponse' });

export const totpSetupResponse = z
  .object({ secret: z.string().meta({ description: 'base32 (RFC 4648, no padding)' }), otpauthUrl: z.string() })
  .meta({ id: 'TwoFactorSetup' });

export const recoveryCodesResponse = z.object({ recoveryCodes: z.array(z.string()).length(10) }).meta({ id: 'RecoveryCodes' });

export const sessionView = z
  .object({
    id: z.uuid(),
    userAgent: z.string().nullable(),
    ip: z.string().nullable(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime(),
    current: z.boolean(),
  })
  .meta({ id: 'Session' });

export const sessionList = z.object({ data: z.array(sessionView), nextCursor: z.string().nullable() }).meta({ id: 'SessionList' });

export const changePasswordBody = z
  .object({
    currentPassword: anyPassword,
    newPassword: z.string().max(1024),
  })
  .strict()
  .meta({ id: 'ChangePassword' });

export const changeEmailBody = z
  .object({ newEmail: emailInput, password: anyPassword.meta({ description: 'the current password' }) })
  .strict()
  .meta({ id: 'ChangeEmailRequest' });

export const emailTokenBody = z
  .object({ token: z.string().min(1).max(512).meta({ description: 'the token from the mailed link' }) })
  .strict()
  .meta({ id: 'EmailTokenRequest' });
