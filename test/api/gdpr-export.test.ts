import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { useTestApp } from '../helpers/app.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';
import { createAccount, createTransaction, expectProblem } from '../helpers/ledger.js';

const run = promisify(execFile);
const t = useTestApp();

type Row = Record<string, unknown>;
interface ExportDoc {
  format: string;
  exportedAt: string;
  userId: string;
  tables: Record<string, Row[]>;
}

let a: TestUser;
let b: TestUser;
const seen: { aTx?: string; bTx?: string; aAcc?: string; bAcc?: string } = {};

beforeAll(async () => {
  a = await registerAndLogin(t, { name: 'Alice Export' });
  b = await registerAndLogin(t, { name: 'Bob Other' });
  for (const [u, key] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    const acc = await createAccount(t, u, { name: `${key}-checking`, openingBalance: '50.00' });
    const tx = await createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: '12.34', notes: `=${key} secret note` });
    const put = await t.api(`/transactions/${tx.id}`, { method: 'PUT', token: u.accessToken, json: { accountId: acc.id, type: 'expense', amount: '10.00', date: '2026-11-02', notes: `=${key} edited` } });
    expect(put.status).toBe(200);
    seen[`${key}Tx`] = tx.id;
    seen[`${key}Acc`] = acc.id;
  }
}, 60_000);

async function exportOf(u: TestUser): Promise<{ res: Response; doc: ExportDoc; text: string }> {
  const res = await t.api('/users/me/export', { token: u.accessToken });
  const text = await res.text();
  return { res, doc: JSON.parse(text) as ExportDoc, text };
}

/** Tables that hold only credentials (tokens, recovery codes): never exported. */
const CREDENTIAL_TABLE = /token|recovery|secret/;

/** Every table in the schema with a user_id column (credential tables aside), read from the catalog as the test's own truth. */
async function tablesWithUserId(): Promise<string[]> {
  const r = await t.db.raw(`SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'user_id' ORDER BY 1`);
  return (r.rows as { table_name: string }[]).map((x) => x.table_name).filter((n) => !CREDENTIAL_TABLE.test(n));
}

describe('GET /users/me/export', () => {
  it('is one JSON attachment holding every table with the caller’s data, row for row, and credentials never', async () => {
    const { res, doc, text } = await exportOf(a);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="numina-export-\d{4}-\d{2}-\d{2}\.json"$/);
    expect(doc).toMatchObject({ format: 'numina-export/1', userId: a.id });

    const expected = await tablesWithUserId();
    expect(Object.keys(doc.tables).sort()).toEqual(['users', ...expected].sort());
    for (const table of expected) {
      const count = await t.db(table).where({ user_id: a.id }).count<{ count: string }[]>('* as count');
      expect({ table, rows: doc.tables[table].length }).toEqual({ table, rows: Number(count[0].count) });
      for (const row of doc.tables[table]) expect(row.user_id).toBe(a.id);
    }

    expect(doc.tables.users).toEqual([expect.objectContaining({ id: a.id, email: a.email, name: 'Alice Export' })]);
    expect(doc.tables.accounts).toEqual([expect.objectContaining({ id: seen.aAcc, balance: '40.0000', opening_balance: '50.0000' })]);
    expect(doc.tables.transactions).toEqual([expect.objectContaining({ id: seen.aTx, amount: '10.0000', notes: '=a edited' })]);
    expect(doc.tables.transaction_versions.map((v) => v.action)).toEqual(['create', 'update']);
    expect(doc.tables.categories.length).toBeGreaterThanOrEqual(9);
    expect(doc.tables.auth_sessions.length).toBeGreaterThanOrEqual(1);
    expect(doc.tables.audit_logs.map((e) => e.action)).toEqual(expect.arrayContaining(['auth.register', 'transaction.create', 'transaction.update', 'user.export']));

    // Credentials stay out even for their owner.
    const users = doc.tables.users[0];
    for (const secret of ['password_hash', 'totp_secret_enc', 'totp_pending_secret_enc']) expect(users).not.toHaveProperty(secret);
    for (const table of ['refresh_tokens', 'recovery_codes', 'password_reset_tokens']) expect(doc.tables).not.toHaveProperty(table);
    for (const e of doc.tables.audit_logs) expect(Object.keys(e).filter((k) => /hash|digest/.test(k))).toEqual([]);
    const hash = (await t.db('users').where({ id: a.id }).first()).password_hash as string;
    expect(text).not.toContain(hash);
    const tokenHashes = (await t.db('refresh_tokens').where({ user_id: a.id }).select('token_hash')).map((r: { token_hash: string }) => r.token_hash);
    expect(tokenHashes.length).toBeGreaterThan(0);
    for (const h of tokenHashes) expect(text).not.toContain(h);
  });

  it('never holds another user’s rows (BOLA)', async () => {
    const { doc, text } = await exportOf(a);
    expect(text).not.toContain(b.id);
    expect(text).not.toContain(b.email);
    expect(text).not.toContain(seen.bTx!);
    expect(text).not.toContain(seen.bAcc!);
    expect(text).not.toContain('b secret note');
    const other = await exportOf(b);
    expect(other.doc.userId).toBe(b.id);
    expect(other.text).not.toContain(a.id);
    expect(doc.tables.users).toHaveLength(1);
  });

  it('is audited', async () => {
    const before = await t.db('audit_logs').where({ user_id: a.id, action: 'user.export' }).count<{ count: string }[]>('* as count');
    const { res } = await exportOf(a);
    expect(res.status).toBe(200);
    const after = await t.db('audit_logs').where({ user_id: a.id, action: 'user.export' }).orderBy('seq', 'desc');
    expect(after.length).toBe(Number(before[0].count) + 1);
    expect(after[0]).toMatchObject({ actor_id: a.id, entity_type: 'user', entity_id: a.id, after: { format: 'json' } });
  });

  it('?format=zip: one CSV per table plus the same JSON', async () => {
    const c = await registerAndLogin(t, { name: 'Carol Zip' });
    const acc = await createAccount(t, c, { name: '+cmd spreadsheet', openingBalance: '1.00' });
    await createTransaction(t, c, { accountId: acc.id, type: 'income', amount: '2.50', notes: 'line one, "quoted"' });
    const res = await t.api('/users/me/export?format=zip', { token: c.accessToken });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="numina-export-.*\.zip"$/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'numina-zip-'));
    try {
      await writeFile(path.join(dir, 'e.zip'), Buffer.from(await res.arrayBuffer()));
      await run('unzip', ['-q', 'e.zip'], { cwd: dir });
      const [folder] = (await readdir(dir)).filter((f) => f.startsWith('numina-export-'));
      const files = (await readdir(path.join(dir, folder))).sort();
      expect(files).toEqual(['export.json', ...['users', ...(await tablesWithUserId())].map((n) => `${n}.csv`)].sort());
      const doc = JSON.parse(await readFile(path.join(dir, folder, 'export.json'), 'utf8')) as ExportDoc;
      expect(doc.userId).toBe(c.id);
      const accountsCsv = await readFile(path.join(dir, folder, 'accounts.csv'), 'utf8');
      const lines = accountsCsv.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0].split(',')).toEqual(expect.arrayContaining(['id', 'user_id', 'name', 'balance']));
      expect(lines[1]).toContain(`'+cmd spreadsheet`); // formula neutralised for spreadsheets
      expect(lines[1]).toContain('3.5000');
      const txCsv = await readFile(path.join(dir, folder, 'transactions.csv'), 'utf8');
      expect(txCsv).toContain('"line one, ""quoted"""');
      const usersCsv = await readFile(path.join(dir, folder, 'users.csv'), 'utf8');
      expect(usersCsv).toContain(c.email);
      expect(usersCsv).not.toContain('password_hash');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('allows 3 exports per hour per user, then 429 with Retry-After', async () => {
    const d = await registerAndLogin(t);
    for (let i = 0; i < 3; i++) {
      const res = await t.api('/users/me/export', { token: d.accessToken });
      expect(res.status).toBe(200);
      await res.arrayBuffer(); // read to the end, so the download slot is given back
    }
    const limited = await t.api('/users/me/export', { token: d.accessToken });
    await expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another user is not affected.
    expect((await t.api('/users/me/export', { token: (await registerAndLogin(t)).accessToken })).status).toBe(200);
  });

  it('needs a login', async () => {
    await expectProblem(await t.api('/users/me/export'), 401);
  });
});
