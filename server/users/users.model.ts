import { Model } from 'objection';

/** A user row. Credentials columns are read by the auth feature only and never leave the server. */
export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export class User extends Model {
  static tableName = 'users';

  id!: string;
  /** NULL only on an erased user's tombstone (`erased_at` set), which no login or session reaches. */
  email!: string;
  email_verified_at!: Date | null;
  name!: string | null;
  role!: 'user' | 'admin';
  disabled!: boolean;
  currency!: string;
  time_zone!: string;
  notify_by_email!: boolean;
  created_at!: Date;
  updated_at!: Date;
  password_hash!: string | null;
  totp_secret_enc!: string | null;
  totp_pending_secret_enc!: string | null;
  totp_enabled_at!: Date | null;
  totp_last_step!: string | null;
  /** Set when the user was erased (GDPR): the row is then a tombstone without personal data. */
  erased_at!: Date | null;

  static jsonSchema = {
    type: 'object',
    required: ['email'],
    properties: {
      id: { type: 'string', format: 'uuid' },
      email: { type: 'string', maxLength: 254 },
      name: { type: ['string', 'null'], maxLength: 200 },
      role: { type: 'string', enum: [...ROLES] },
      disabled: { type: 'boolean' },
      currency: { type: 'string', pattern: '^[A-Z]{3}$' },
      time_zone: { type: 'string' },
      password_hash: { type: ['string', 'null'] },
      totp_secret_enc: { type: ['string', 'null'] },
      totp_pending_secret_enc: { type: ['string', 'null'] },
      totp_last_step: { type: ['string', 'null'] },
    },
  };
}

/** The profile as clients see it (docs/api.md, Users). */
export interface Profile {
  id: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  currency: string;
  timeZone: string;
  role: Role;
  twoFactorEnabled: boolean;
  notifyByEmail: boolean;
  createdAt: string;
}

export function toProfile(u: Pick<User, 'id' | 'email' | 'email_verified_at' | 'name' | 'currency' | 'time_zone' | 'role' | 'totp_enabled_at' | 'created_at' | 'notify_by_email'>): Profile {
  return {
    id: u.id,
    email: u.email,
    emailVerified: u.email_verified_at != null,
    name: u.name ?? null,
    currency: u.currency,
    timeZone: u.time_zone,
    role: u.role,
    twoFactorEnabled: u.totp_enabled_at != null,
    notifyByEmail: u.notify_by_email ?? false,
    createdAt: new Date(u.created_at).toISOString(),
  };
}
