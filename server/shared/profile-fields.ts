import { z } from 'zod';

/**
 * Profile field schemas that more than one feature validates (registration in auth, the profile in
 * users). They live here so neither feature imports the other for them.
 */
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

/** Emails are compared and stored lowercased. */
export const emailInput = z
  .string()
  .trim()
  .max(254)
  .toLowerCase()
  .pipe(z.email({ message: 'must be an email address' }))
  .meta({ example: 'ada@example.com' });
