import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createApp } from '../app.js';
import { loadConfig } from '../shared/config.js';
import { createDb } from '../shared/db.js';
import { createLogger } from '../shared/logger.js';
import { openApiDocument } from '../system/system.routes.js';

/**
 * `npm run openapi [-- <file>]`: writes the OpenAPI document the server serves at /openapi.json
 * (to stdout, or the file), without a database: the document comes from the route registry alone.
 * .ci/run lints it with Redocly.
 */
const out = process.argv[2];
const config = loadConfig({ ...process.env, NODE_ENV: 'test', PORT: '0', DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://127.0.0.1:1/none', LOG_LEVEL: 'silent' });
const db = createDb(config.databaseUrl!, 1);
const app = await createApp({ config, db, logger: createLogger('silent') });
const doc = JSON.stringify(openApiDocument(app.registry, config.publicUrl), null, 2);
if (out) {
  // The target folder (e.g. .tmp/ in a fresh clone) may not exist yet.
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${doc}\n`);
}
else process.stdout.write(`${doc}\n`);
await db.destroy();
process.exit(0);
