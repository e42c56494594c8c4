import { z } from 'zod';

export const exportQuery = z.strictObject({
  format: z.enum(['json', 'zip']).default('json').meta({ description: '`json` (default): one document; `zip`: one CSV per table plus the JSON' }),
});
