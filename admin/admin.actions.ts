/**
 * What an admin can do to a user, as a list: each entry is one AdminJS record action (a
 * confirmation page whose button POSTs), run through the owning feature's service, which writes
 * the change and its audit entry (the admin as actor) in one transaction. Adding an action is one
 * more entry here. An erased user's tombstone is offered none.
 */
import type { ActionContext, ActionRequest, ActionResponse, After, BaseRecord, RecordActionResponse } from 'adminjs';
import type { Response } from 'express';
import type { AuditService } from '../server/audit/index.js';
import type { AuditContext } from '../server/shared/write-context.js';
import type { AuthServices } from '../server/auth/index.js';
import type { Clock } from '../server/shared/clock.js';
import type { Db } from '../server/shared/db.js';
import type { EraseService } from '../server/gdpr/index.js';
import { AppError, ConflictError } from '../server/shared/errors.js';
import { changeRole } from '../server/users/index.js';

/** The user a record action is about, as the resource shows it. */
export interface TargetUser {
  id: string;
  /** How the panel names the user in notices: the email, or "erased user <id>" on a tombstone. */
  email: string;
  role: 'user' | 'admin';
  disabled: boolean;
  two_factor: boolean;
  erased: boolean;
}

/** The signed-in admin and the request facts every audit entry carries. */
export interface Actor {
  id: string;
  rc: AuditContext;
}

export interface UserActionDeps {
  db: Db;
  clock: Clock;
  audit: AuditService;
  auth: AuthServices;
  erase: EraseService;
}

export interface UserAction {
  name: string;
  label: string;
  /** What the confirmation page asks. */
  prompt: string;
  variant: 'danger' | 'primary';
  icon: string;
  /** Offered for this user? (e.g. "enable" only for a disabled one; never for an erased one) */
  offered(user: TargetUser, admin: { id: string }): boolean;
  /** Does it, audited with the admin as actor; returns the message shown. AppErrors are shown as refusals. */
  run(deps: UserActionDeps, user: TargetUser, actor: Actor): Promise<string>;
}

export const USER_ACTIONS: UserAction[] = [
  {
    name: 'disable',
    label: 'Disable',
    prompt: 'Disable this user? Every login and live connection of theirs ends now, and they cannot sign in until enabled again.',
    variant: 'danger',
    icon: 'Slash',
    offered: (u, admin) => !u.disabled && u.id !== admin.id,
    async run({ auth }, u, actor) {
      if (u.id === actor.id) throw new ConflictError('You cannot disable your own account.', 'self_disable');
      await auth.tokens.setDisabled({ userId: u.id, actorId: actor.id, audit: actor.rc }, true);
      return `${u.email} is disabled; their logins were revoked.`;
    },
  },
  {
    name: 'enable',
    label: 'Enable',
    prompt: 'Enable this user again? They can sign in with their password.',
    variant: 'primary',
    icon: 'CheckCircle',
    offered: (u) => u.disabled,
    async run({ auth }, u, actor) {
      await auth.tokens.setDisabled({ userId: u.id, actorId: actor.id, audit: actor.rc }, false);
      return `${u.email} is enabled.`;
    },
  },
  {
    name: 'makeAdmin',
    label: 'Make admin',
    prompt: 'Make this user an admin? They can then sign in to this panel and act on every user.',
    variant: 'danger',
    icon: 'Shield',
    offered: (u) => u.role !== 'admin',
    async run({ db, audit, clock }, u, actor) {
      await changeRole(db, audit, clock, { email: u.email, role: 'admin', actorId: actor.id, via: 'admin', rc: actor.rc });
      return `${u.email} is now an admin.`;
    },
  },
  {
    name: 'makeUser',
    label: 'Make user',
    prompt: 'Take admin rights away from this user? Their panel session ends at their next request.',
    variant: 'danger',
    icon: 'User',
    offered: (u) => u.role === 'admin',
    async run({ db, audit, clock }, u, actor) {
      await changeRole(db, audit, clock, { email: u.email, role: 'user', actorId: actor.id, via: 'admin', keepAnAdmin: true, rc: actor.rc });
      return `${u.email} is now a user.`;
    },
  },
  {
    name: 'resetTwoFactor',
    label: 'Clear 2FA',
    prompt:
      'Turn off two-factor authentication for this user (they lost their device and their recovery codes)? They can then sign in with their password alone, and are told so by mail.',
    variant: 'danger',
    icon: 'Key',
    offered: (u) => u.two_factor,
    async run({ auth }, u, actor) {
      const cleared = await auth.twoFactor.clearTwoFactor(u.id, { userId: actor.id, actorId: actor.id, audit: actor.rc });
      if (!cleared) throw new ConflictError(`Two-factor authentication is already off for ${u.email}.`, 'two_factor_off');
      return `Two-factor authentication is off for ${u.email}; they were mailed.`;
    },
  },
  {
    name: 'eraseUserData',
    label: 'Erase user data',
    prompt:
      'Erase this user and all their data (GDPR)? Their accounts, transactions, budgets, goals, notifications and logins are deleted for good; only a tombstone without personal data and their audit entries, with personal data removed, are kept. This cannot be undone.',
    variant: 'danger',
    icon: 'Trash2',
    offered: (u, admin) => u.id !== admin.id,
    async run({ erase }, u, actor) {
      if (u.id === actor.id) throw new ConflictError('Erase your own account from the app (DELETE /users/me), not from the panel.', 'self_erase');
      await erase.eraseByAdmin(u.id, actor);
      return `The data of ${u.email} is erased; a tombstone without personal data remains.`;
    },
  },
];

/** Request facts captured before AdminJS copies the request (its copy loses `req.ip`). */
export const rcOf = (res: Response): AuditContext => res.locals.adminRc as AuditContext;

function targetOf(record: BaseRecord): TargetUser {
  const p = record.params as Record<string, unknown>;
  const erased = typeof p.erased_at === 'string';
  const email = typeof p.email === 'string' ? p.email : `erased user ${String(p.id)}`;
  return { id: String(p.id), email, role: p.role as TargetUser['role'], disabled: p.disabled === true, two_factor: p.two_factor === true, erased };
}

/**
 * The AdminJS action of a `UserAction`. GET (the confirmation page loading) changes nothing and
 * returns the record; only a POST runs it. A refusal (last admin, own account, ...) is a notice,
 * and the page shows the record as it now is.
 */
export function toAdminAction(action: UserAction, deps: UserActionDeps) {
  const handler = async (request: ActionRequest, response: Response, context: ActionContext): Promise<RecordActionResponse> => {
    const { record, currentAdmin, resource, h } = context;
    if (!record || !currentAdmin) throw new Error('record action without a record or an admin');
    const admin = { id: String(currentAdmin.id) };
    if (request.method !== 'post') return { record: record.toJSON(currentAdmin) };
    const user = targetOf(record);
    let notice: ActionResponse['notice'];
    try {
      if (user.erased || !action.offered(user, admin)) throw new ConflictError(`"${action.label}" does not apply to ${user.email} now.`, 'not_applicable');
      notice = { message: await action.run(deps, user, { id: admin.id, rc: rcOf(response) }), type: 'success' };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      notice = { message: err.message, type: 'error' };
    }
    const fresh = (await resource.findOne(record.id())) ?? record;
    return {
      record: fresh.toJSON(currentAdmin),
      notice,
      redirectUrl: h.recordActionUrl({ resourceId: resource.id(), recordId: record.id(), actionName: 'show' }),
    };
  };
  return {
    actionType: 'record' as const,
    label: action.label,
    icon: action.icon,
    variant: action.variant,
    custom: { prompt: action.prompt, variant: action.variant },
    isVisible: ({ record, currentAdmin }: ActionContext) => {
      if (!record || !currentAdmin) return false;
      const user = targetOf(record);
      return !user.erased && action.offered(user, { id: String(currentAdmin.id) });
    },
    // Accessible on any record (the handler re-checks `offered` on POST): a stale page gets a clear notice, not a 403.
    isAccessible: true,
    handler: handler as unknown as (request: ActionRequest, response: unknown, context: ActionContext) => Promise<RecordActionResponse>,
    after: [] as After<RecordActionResponse>[],
  };
}
