import type { Knex } from 'knex';
import type { AuditService } from '../audit/index.js';
import type { AuditContext, WriteContext } from '../shared/write-context.js';
import type { Clock } from '../shared/clock.js';
import type { Db } from '../shared/db.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { toProfile, User, type Profile } from './users.model.js';

export interface ProfilePatch {
  name?: string | null;
  currency?: string;
  timeZone?: string;
  notifyByEmail?: boolean;
}

/** What budgets and goals need to know about a user: the calendar and the currency. */
export interface UserCalendar {
  timeZone: string;
  currency: string;
}

/** Per database transaction: the listeners of one ledger write ask once, not once each. */
const calendars = new WeakMap<Knex.Transaction, Map<string, UserCalendar>>();

/** The user's time zone and currency (inside `q`, e.g. a ledger write's transaction, where it is read once). */
export async function userCalendar(q: Knex | Knex.Transaction, userId: string): Promise<UserCalendar> {
  const trx = 'isTransaction' in q && q.isTransaction ? (q as Knex.Transaction) : undefined;
  const cached = trx ? calendars.get(trx)?.get(userId) : undefined;
  if (cached) return cached;
  const row = await q('users').where({ id: userId }).first<{ time_zone: string; currency: string } | undefined>('time_zone', 'currency');
  if (!row) throw new NotFoundError();
  const cal = { timeZone: row.time_zone, currency: row.currency };
  if (trx) calendars.set(trx, (calendars.get(trx) ?? new Map<string, UserCalendar>()).set(userId, cal));
  return cal;
}

/**
 * The address to mail a notification to, or null: the user must have opted in (notifyByEmail),
 * not be disabled, and have verified the address (email_verified_at).
 */
export async function notificationMailAddress(q: Knex, userId: string): Promise<string | null> {
  const row = await q('users')
    .where({ id: userId })
    .first<{ email: string; notify_by_email: boolean; disabled: boolean; email_verified_at: Date | null } | undefined>('email', 'notify_by_email', 'disabled', 'email_verified_at');
  if (!row || !row.notify_by_email || row.disabled || row.email_verified_at == null) return null;
  return row.email;
}

export function createUsersService({ db, clock, audit }: { db: Db; clock: Clock; audit: AuditService }) {
  return {
    async getProfile(userId: string): Promise<Profile> {
      const user = await User.query(db).findById(userId);
      if (!user) throw new NotFoundError();
      return toProfile(user);
    },

    /**
     * The user's address when it has been verified (through the link mailed at registration or at
     * an email change), else null. Mail that is not a reply to the user's own request (alerts)
     * goes only to this address.
     */
    async verifiedEmail(userId: string): Promise<string | null> {
      const row: { email: string; email_verified_at: Date | null } | undefined = await db('users').where({ id: userId }).first('email', 'email_verified_at');
      return row?.email_verified_at ? row.email : null;
    },

    /** Whether the user's current address is verified. */
    async isEmailVerified(userId: string): Promise<boolean> {
      return (await this.verifiedEmail(userId)) !== null;
    },

    /** Changes name, currency or time zone; only these (role and email never change here). Audited with before/after. */
    async updateProfile(write: WriteContext, patch: ProfilePatch): Promise<Profile> {
      const userId = write.userId;
      return db.transaction(async (trx) => {
        const user = await User.query(trx).findById(userId).forUpdate();
        if (!user) throw new NotFoundError();
        const changes: Record<string, unknown> = {};
        const before: Record<string, unknown> = {};
        const after: Record<string, unknown> = {};
        const set = (col: 'name' | 'currency' | 'time_zone' | 'notify_by_email', field: string, value: unknown) => {
          if (value === undefined || user[col] === value) return;
          changes[col] = value;
          before[field] = user[col];
          after[field] = value;
        };
        set('name', 'name', patch.name);
        set('currency', 'currency', patch.currency);
        set('time_zone', 'timeZone', patch.timeZone);
        set('notify_by_email', 'notifyByEmail', patch.notifyByEmail);
        if (!Object.keys(changes).length) return toProfile(user);
        const updated = await User.query(trx)
          .patchAndFetchById(userId, { ...changes, updated_at: clock.now() });
        await audit.recordWrite(trx, write, { action: 'user.profile_updated', entityType: 'user', entityId: userId, before, after });
        return toProfile(updated);
      });
    },
  };
}

/**
 * Gives a user (found by email) a role; the change is audited with the operator as actor (null =
 * command line). Access tokens carry the role only as a hint: every request reads it from the
 * database, so the change applies at once without revoking logins. Returns null for an unknown email.
 */
export async function changeRole(
  db: Db,
  audit: AuditService,
  clock: Clock,
  input: { email: string; role: 'user' | 'admin'; actorId?: string | null; via?: string; keepAnAdmin?: boolean; rc?: Partial<AuditContext> },
): Promise<{ id: string; email: string; before: string; after: string } | null> {
  return db.transaction(async (trx: Knex.Transaction) => {
    const user = await User.query(trx).whereRaw('lower(email) = ?', [input.email.trim().toLowerCase()]).forUpdate().first();
    if (!user) return null;
    if (input.keepAnAdmin && user.role === 'admin' && input.role !== 'admin') {
      // Every enabled admin row is locked, so two admins demoting each other at once cannot both pass.
      const admins: { id: string }[] = await trx('users').where({ role: 'admin', disabled: false }).forUpdate().select('id');
      if (!admins.some((a) => a.id !== user.id)) throw new ConflictError('This is the last admin: make another user admin first.', 'last_admin');
    }
    if (user.role !== input.role) {
      await trx('users').where({ id: user.id }).update({ role: input.role, updated_at: clock.now() });
      await audit.record(trx, {
        action: 'user.role_changed',
        actorId: input.actorId ?? null,
        userId: user.id,
        entityType: 'user',
        entityId: user.id,
        before: { role: user.role },
        after: { role: input.role, via: input.via ?? 'cli' },
        ...input.rc,
      });
    }
    return { id: user.id, email: user.email, before: user.role, after: input.role };
  });
}

export type UsersService = ReturnType<typeof createUsersService>;

/**
 * Turns the user row into the erasure's tombstone, inside the erasing transaction: `erased_at`
 * set (once; a trigger refuses to change it again), every personal and credential field cleared
 * (email NULL frees the address for a new registration), disabled, no admin role, neutral
 * currency and time zone. The id and `created_at` stay: audit entries and the chain refer to them.
 */
export async function tombstoneUser(trx: Knex.Transaction, userId: string, now: Date): Promise<void> {
  await trx('users').where({ id: userId }).update({
    erased_at: now,
    email: null,
    email_verified_at: null,
    name: null,
    password_hash: null,
    totp_secret_enc: null,
    totp_pending_secret_enc: null,
    totp_enabled_at: null,
    totp_last_step: null,
    notify_by_email: false,
    disabled: true,
    role: 'user',
    currency: 'USD',
    time_zone: 'UTC',
    updated_at: now,
  });
}
