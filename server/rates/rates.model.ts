import { Model } from 'objection';

/** One stored rate: 1 `base` = `rate` `quote` on `date`. NUMERIC stays a string. */
export class ExchangeRate extends Model {
  static tableName = 'exchange_rates';
  static idColumn = ['base', 'quote', 'date'];

  base!: string;
  quote!: string;
  date!: string;
  rate!: string;
  source!: 'manual' | 'ecb';
  created_at!: Date;
  updated_at!: Date;
}
