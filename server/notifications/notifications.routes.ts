import type { FeatureContext } from '../context.js';
import { page, uuidParam } from '../shared/http.js';
import { listNotificationsQuery, notificationView } from './notifications.schemas.js';
import type { NotificationService } from './notifications.service.js';

export function registerNotificationRoutes(ctx: FeatureContext, notifications: NotificationService): void {
  const tags = ['Notifications'];
  ctx.registry.add({
    method: 'get',
    path: '/notifications',
    access: 'user',
    summary: 'Your notifications, newest first (?unread=true for unread only)',
    tags,
    query: listNotificationsQuery,
    responses: { 200: { description: 'A page of notifications', schema: page(notificationView) } },
    handler: ({ query, user }) => notifications.list(user.id, query),
  });
  ctx.registry.add({
    method: 'post',
    path: '/notifications/read-all',
    access: 'user',
    summary: 'Mark every notification read',
    tags,
    status: 204,
    responses: { 204: { description: 'Marked read' } },
    handler: ({ user }) => notifications.markAllRead(user.id),
  });
  ctx.registry.add({
    method: 'post',
    path: '/notifications/:id/read',
    access: 'user',
    summary: 'Mark a notification read',
    tags,
    params: uuidParam,
    status: 204,
    responses: { 204: { description: 'Marked read' } },
    handler: ({ params, user }) => notifications.markRead(user.id, params.id),
  });
}
