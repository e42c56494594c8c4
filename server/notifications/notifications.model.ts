import { Model } from 'objection';

export const NOTIFICATION_TYPES = ['budget.alert', 'goal.achieved', 'recurring.stopped'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export class Notification extends Model {
  static tableName = 'notifications';

  id!: string;
  user_id!: string;
  type!: NotificationType;
  payload!: Record<string, unknown>;
  created_at!: Date;
  read_at!: Date | null;
}
