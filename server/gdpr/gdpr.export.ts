import { once } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import { stringify } from 'csv-stringify';
import pg from 'pg';
import QueryStream from 'pg-query-stream';
import type { Logger } from 'pino';
import yazl from 'yazl';
import { knexPool, type Db } from '../shared/db.js';
import { neutraliseFormula } from '../transactions/index.js';
import { jsonRowsSql, textRowsSql, userTables, type UserTable } from './gdpr.catalog.js';

export const EXPORT_FORMAT = 'numina-export/1';

async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await once(out, 'drain');
}

/**
 * Writes the JSON document: `{format, exportedAt, userId, tables: {<table>: [rows…], …}}`, each
 * table read through a server-side cursor with backpressure to `out`, so memory stays flat for any
 * row count.
 */
async function writeJson(client: pg.ClientBase, tables: UserTable[], userId: string, exportedAt: string, out: Writable): Promise<void> {
  await write(out, `{\n"format": ${JSON.stringify(EXPORT_FORMAT)},\n"exportedAt": ${JSON.stringify(exportedAt)},\n"userId": ${JSON.stringify(userId)},\n"tables": {`);
  for (const [i, t] of tables.entries()) {
    await write(out, `${i ? ',' : ''}\n${JSON.stringify(t.name)}: [`);
    let first = true;
    for await (const row of client.query(new QueryStream(jsonRowsSql(t), [userId], { batchSize: 500 })) as AsyncIterable<{ j: string }>) {
      await write(out, `${first ? '\n' : ',\n'}${row.j}`);
      first = false;
    }
    await write(out, first ? ']' : '\n]');
  }
  await write(out, '\n}\n}\n');
}

async function writeCsv(client: pg.ClientBase, t: UserTable, userId: string, out: Writable): Promise<void> {
  const rows = client.query(new QueryStream(textRowsSql(t), [userId], { batchSize: 500 }));
  const csv = stringify({
    header: true,
    columns: t.columns.map((c) => c.name),
    cast: { string: (v) => neutraliseFormula(v) ?? '' },
  });
  await pipeline(rows, csv, out);
}

function isClientGone(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * Streams everything held about `userId` into `res`, from one consistent snapshot (one REPEATABLE
 * READ, READ ONLY transaction on one pooled connection held for the length of the download).
 * `json`: one document. `zip`: one CSV per table plus the same JSON, entries written in order
 * while the zip streams out.
 */
export async function streamUserExport(db: Db, logger: Logger, res: Response, opts: { userId: string; format: 'json' | 'zip'; now: Date }): Promise<void> {
  const pool = knexPool<pg.PoolClient>(db);
  const conn = await pool.acquireConnection();
  let open = false;
  try {
    await conn.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    open = true;
    const tables = await userTables(conn);
    const exportedAt = opts.now.toISOString();
    const base = `numina-export-${exportedAt.slice(0, 10)}`;
    res.status(200);
    res.setHeader('Cache-Control', 'no-store');
    if (opts.format === 'json') {
      res.type('application/json; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="${base}.json"`);
      await writeJson(conn, tables, opts.userId, exportedAt, res);
      res.end();
    } else {
      res.type('application/zip');
      res.setHeader('Content-Disposition', `attachment; filename="${base}.zip"`);
      const zip = new yazl.ZipFile();
      const sent = pipeline(zip.outputStream, res);
      const entries = [...tables.map((t) => `${t.name}.csv`), 'export.json'].map((name) => {
        const s = new PassThrough();
        zip.addReadStream(s, `${base}/${name}`, { mtime: opts.now });
        return s;
      });
      zip.end();
      for (const [i, t] of tables.entries()) await writeCsv(conn, t, opts.userId, entries[i]);
      const json = entries[entries.length - 1];
      await writeJson(conn, tables, opts.userId, exportedAt, json);
      json.end();
      await sent;
    }
  } catch (err) {
    if (!isClientGone(err)) throw err;
    logger.debug({ err }, 'user export: client went away');
  } finally {
    if (open) await conn.query('ROLLBACK').catch(() => {});
    await pool.releaseConnection(conn);
  }
}
