import { z } from 'zod';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
const TIME_ZONES = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);

/** A time zone name Intl understands (IANA, canonical or alias). */
export function isTimeZone(tz: string): boolean {
  if (TIME_ZONES.has(tz)) return true;
  try {
    // IANA names and their aliases (Asia/Calcutta); raw offsets such as +01:00 are not zone names.
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz);
  } catch {
    return false;
  }
}

export const currencyCode = z
  .string()
  .refine((c) => CURRENCIES.has(c), 'must be an ISO 4217 currency code such as USD')
  .meta({ example: 'EUR', description: 'ISO 4217 code' });

export const timeZoneName = z
  .string()
  .max(64)
  .refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris')
  .meta({ example: 'Europe/Paris', description: 'IANA time zone' });

export const personName = z.string().trim().min(1).max(200);

export const profileSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    name: z.string().nullable(),
    currency: z.string(),
    timeZone: z.string(),
    role: z.enum(['user', 'admin']),
    twoFactorEnabled: z.boolean(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Profile' });

/** role, email and any other key are refused (400): they never change anything. */
export const updateProfileBody = z
  .object({
    name: personName.nullable().optional(),
    currency: currencyCode.optional(),
    timeZone: timeZoneName.optional(),
  })
  .strict()
  .meta({ id: 'UpdateProfile' });

export const changePasswordBody = z
  .object({
    currentPassword: z.string().min(1).max(1024),
    newPassword: z.string().max(1024),
  })
  .strict()
  .meta({ id: 'ChangePassword' });
