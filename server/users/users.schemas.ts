import { z } from 'zod';
import { currencyCode, personName, timeZoneName } from '../shared/profile-fields.js';

export { currencyCode, isTimeZone, personName, timeZoneName } from '../shared/profile-fields.js';

export const profileSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    emailVerified: z.boolean().meta({ description: 'the address was confirmed through a mailed link; alert mails go only to a verified address' }),
    name: z.string().nullable(),
    currency: z.string(),
    timeZone: z.string(),
    role: z.enum(['user', 'admin']),
    twoFactorEnabled: z.boolean(),
    notifyByEmail: z.boolean(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Profile' });

/** role, email and any other key are refused (400): they never change anything. */
export const updateProfileBody = z
  .object({
    name: personName.nullable().optional(),
    currency: currencyCode.optional(),
    timeZone: timeZoneName.optional(),
    notifyByEmail: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'UpdateProfile' });
