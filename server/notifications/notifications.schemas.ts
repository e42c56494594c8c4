import { z } from 'zod';
import { listQuery } from '../shared/http.js';
import { NOTIFICATION_TYPES } from './notifications.model.js';

export const listNotificationsQuery = z
  .object({
    ...listQuery,
    unread: z.enum(['true', 'false']).optional().meta({ description: 'true: only notifications not yet read' }),
  })
  .strict();

export const notificationView = z
  .object({
    id: z.uuid(),
    type: z.enum(NOTIFICATION_TYPES),
    payload: z.record(z.string(), z.unknown()).meta({
      description:
        'budget.alert: {budgetId, categoryId, categoryName, period, periodStart, spent, amount, currency, threshold}; ' +
        'goal.achieved: {goalId, name, targetAmount, currentAmount, currency}; recurring.stopped: {recurringId, reason}',
    }),
    createdAt: z.string(),
    readAt: z.string().nullable(),
  })
  .meta({ id: 'Notification' });

export type NotificationView = z.output<typeof notificationView>;
export type ListNotificationsQuery = z.output<typeof listNotificationsQuery>;
