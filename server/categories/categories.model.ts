import { Model } from 'objection';

export const CATEGORY_KINDS = ['income', 'expense'] as const;
export type CategoryKind = (typeof CATEGORY_KINDS)[number];

export class Category extends Model {
  static tableName = 'categories';

  id!: string;
  user_id!: string;
  name!: string;
  kind!: CategoryKind;
  created_at!: Date;
  updated_at!: Date;

  static jsonSchema = {
    type: 'object',
    required: ['user_id', 'name', 'kind'],
    properties: {
      id: { type: 'string', format: 'uuid' },
      user_id: { type: 'string', format: 'uuid' },
      name: { type: 'string', minLength: 1, maxLength: 60 },
      kind: { type: 'string', enum: [...CATEGORY_KINDS] },
    },
  };
}
