import type { FeatureContext } from '../context.js';
import { registerNotificationRoutes } from './notifications.routes.js';
import { MAIL_JOB, type NotificationService } from './notifications.service.js';

export { createNotification, createNotificationService, toNotificationView } from './notifications.service.js';
export type { NotificationService, NotificationServiceDeps } from './notifications.service.js';
export { NOTIFICATION_TYPES } from './notifications.model.js';
export type { NotificationType } from './notifications.model.js';
export type { NotificationView } from './notifications.schemas.js';

/**
 * Notifications: GET /notifications, POST /notifications/:id/read and /read-all, and the mail job
 * (after commit, retried with backoff on SMTP failure; it never blocks or fails the write).
 */
export function registerNotifications(ctx: FeatureContext, deps: { notifications: NotificationService }): void {
  ctx.hooks.userErased.push(async (trx, userId) => {
    await trx('notifications').where({ user_id: userId }).del();
  });
  // SMTP can be down for a while: retried every 5 s at first, backing off, for about an hour.
  ctx.jobs.work<{ notificationId: string; userId: string }>(
    MAIL_JOB,
    async (job) => {
      await deps.notifications.sendMail(job.payload.notificationId);
    },
    { retryLimit: 12, retryDelayMs: 5_000 },
  );
  registerNotificationRoutes(ctx, deps.notifications);
}
