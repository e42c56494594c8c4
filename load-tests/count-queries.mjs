/**
 * Preloaded into a bench's server process (`node --import ./load-tests/count-queries.mjs …`):
 * counts the SQL statements the server sends, by statement text — pg_stat_statements for one
 * process, without touching the shared PostgreSQL's configuration. Each SIGUSR2 writes the counts
 * since the previous one to `$COUNT_QUERIES_FILE.<n>.json` and starts over. Plain JavaScript: it
 * loads before the TypeScript loader does.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(`${process.cwd()}/package.json`);
const pg = require('pg');
const file = process.env.COUNT_QUERIES_FILE ?? 'query-counts';
let counts = new Map();
let snapshot = 0;

const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(config, ...rest) {
  const text = typeof config === 'string' ? config : config?.text;
  if (typeof text === 'string') {
    const key = text.replace(/\s+/g, ' ').trim().slice(0, 240);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return query.call(this, config, ...rest);
};

process.on('SIGUSR2', () => {
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  writeFileSync(`${file}.${snapshot++}.json`, JSON.stringify({ total: sorted.reduce((n, [, c]) => n + c, 0), statements: sorted }, null, 1));
  counts = new Map();
});
