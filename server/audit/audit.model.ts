import { Model } from 'objection';

/** One audit entry. Rows are append-only (a database trigger refuses UPDATE/DELETE). */
export class AuditLog extends Model {
  static tableName = 'audit_logs';
  static idColumn = 'seq';

  seq!: string;
  id!: string;
  chain!: string;
  at!: Date;
  user_id!: string | null;
  actor_id!: string | null;
  action!: string;
  entity_type!: string | null;
  entity_id!: string | null;
  before!: unknown;
  after!: unknown;
  ip!: string | null;
  user_agent!: string | null;
  request_id!: string | null;
  pii_digest!: string;
  prev_hash!: string | null;
  hash!: string;
  redacted_at!: Date | null;

  static jsonSchema = {
    type: 'object',
    required: ['chain', 'at', 'action', 'pii_digest', 'hash'],
    properties: {
      seq: { type: 'string' },
      id: { type: 'string', format: 'uuid' },
      chain: { type: 'string' },
      action: { type: 'string' },
      entity_type: { type: ['string', 'null'] },
      entity_id: { type: ['string', 'null'] },
      ip: { type: ['string', 'null'] },
      user_agent: { type: ['string', 'null'] },
      request_id: { type: ['string', 'null'] },
    },
  };
}
