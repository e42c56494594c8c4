import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import { decodeCursor, isIsoInstant, isUuid, keysetPage } from '../shared/cursor.js';
import type { Db } from '../shared/db.js';
import { NotFoundError } from '../shared/errors.js';
import type { Jobs } from '../shared/jobs.js';
import type { Mail, Mailer } from '../shared/mailer.js';
import { notificationMailAddress } from '../users/index.js';
import { Notification, type NotificationType } from './notifications.model.js';
import type { ListNotificationsQuery, NotificationView } from './notifications.schemas.js';

export const MAIL_JOB = 'notification.mail';
/** Types that are also mailed to users who opted in (notifyByEmail) with a verified address. */
const MAILED: readonly NotificationType[] = ['budget.alert', 'goal.achieved'];

export function toNotificationView(n: Notification): NotificationView {
  return {
    id: n.id,
    type: n.type,
    payload: n.payload,
    createdAt: new Date(n.created_at).toISOString(),
    readAt: n.read_at ? new Date(n.read_at).toISOString() : null,
  };
}

/**
 * Stores a notification for `userId` inside the caller's transaction (so it exists exactly when
 * the change that caused it does). For features that notify without mail (recurring.stopped).
 */
export async function createNotification(
  trx: Knex.Transaction,
  userId: string,
  type: NotificationType,
  payload: Record<string, unknown>,
  at: Date = new Date(),
): Promise<NotificationView> {
  const [row] = (await trx('notifications').insert({ user_id: userId, type, payload: JSON.stringify(payload), created_at: at }).returning('*')) as Notification[];
  return toNotificationView(row);
}

/** The mail for a notification (no links, no secrets: what the user already sees in the app). */
function mailFor(to: string, n: Notification): Mail {
  const p = n.payload as Record<string, string>;
  if (n.type === 'budget.alert') {
    const pct = `${Number(p.threshold) * 100}%`;
    return {
      to,
      subject: `Budget alert: ${p.categoryName ?? 'a category'} reached ${pct}`,
      text: `Your ${p.period} budget for ${p.categoryName ?? 'a category'} (period starting ${p.periodStart}) reached ${pct}: spent ${p.spent} of ${p.amount} ${p.currency}.\n`,
    };
  }
  return {
    to,
    subject: `Goal reached: ${p.name}`,
    text: `Your savings goal "${p.name}" reached its target of ${p.targetAmount} ${p.currency} (now ${p.currentAmount} ${p.currency}).\n`,
  };
}

export interface NotificationServiceDeps {
  db: Db;
  clock: Clock;
  jobs: Jobs;
  mailer: Mailer;
  logger: Logger;
}

/** Notifications: stored in the writer's transaction, listed newest first, marked read; mailed after commit. */
export function createNotificationService({ db, clock, jobs, mailer, logger }: NotificationServiceDeps) {
  return {
    /**
     * Stores the notification and, for mailed types, queues its mail in the same transaction: the
     * job (payload: ids only — the notification's and its owner's, so erasing the user deletes the
     * queued mail) runs after commit and never for a rolled-back write.
     */
    async notify(trx: Knex.Transaction, userId: string, type: NotificationType, payload: Record<string, unknown>): Promise<NotificationView> {
      const view = await createNotification(trx, userId, type, payload, clock.now());
      if (MAILED.includes(type)) await jobs.enqueue(trx, MAIL_JOB, { notificationId: view.id, userId });
      return view;
    },

    /** The mail job: looks the notification and the address up at send time; throws (→ retry) when SMTP fails. */
    async sendMail(notificationId: string): Promise<'sent' | 'skipped'> {
      const n = await Notification.query(db).findById(notificationId);
      if (!n) return 'skipped';
      const to = await notificationMailAddress(db, n.user_id);
      if (!to) return 'skipped';
      await mailer.send(mailFor(to, n));
      logger.info({ notificationId, type: n.type }, 'notification mailed');
      return 'sent';
    },

    /** Newest first, keyset-paginated on (createdAt desc, id desc). */
    async list(userId: string, q: ListNotificationsQuery): Promise<{ data: NotificationView[]; nextCursor: string | null }> {
      const query = Notification.query(db).where('user_id', userId);
      if (q.unread === 'true') query.whereNull('read_at');
      if (q.unread === 'false') query.whereNotNull('read_at');
      if (q.cursor) {
        const [at, id] = decodeCursor(q.cursor, [isIsoInstant, isUuid]);
        query.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', [at, id]);
      }
      const rows = await query.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(q.limit + 1);
      return keysetPage(rows, q.limit, toNotificationView, (r) => [new Date(r.created_at).toISOString(), r.id]);
    },

    /** Marks one notification read (idempotent); 404 when it is not the caller's. */
    async markRead(userId: string, id: string): Promise<void> {
      const found = await db('notifications').where({ id, user_id: userId }).update({ read_at: db.raw('coalesce(read_at, ?)', [clock.now()]) });
      if (found === 0) throw new NotFoundError('Notification not found.');
    },

    async markAllRead(userId: string): Promise<void> {
      await db('notifications').where({ user_id: userId }).whereNull('read_at').update({ read_at: clock.now() });
    },
  };
}

export type NotificationService = ReturnType<typeof createNotificationService>;
