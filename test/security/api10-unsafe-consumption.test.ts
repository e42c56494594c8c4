import { useTestApp, useUsers } from '../helpers/app.js';
import { createAccount, createTransaction, expectProblem } from '../helpers/ledger.js';
import { registerAndLogin } from '../helpers/users.js';

/**
 * OWASP API10:2023 Unsafe Consumption of APIs: data the server takes from outside — other
 * systems, proxies, client headers — and data it hands to other software (spreadsheets) is
 * treated as untrusted. One entry per external source; a new source (the ECB rates import, a
 * webhook) is one more entry in SOURCES with its own hostile input and the defended outcome.
 */
const t = useTestApp();
const [u] = useUsers(t, 1);

/** RFC 4180 rows (quoted fields, doubled quotes, line breaks inside quotes) as objects keyed by the header. */
function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') {
      endField();
      rows.push(row);
      row = [];
    } else if (c !== '\r') field += c;
  }
  if (field || row.length) {
    endField();
    rows.push(row);
  }
  const [header, ...data] = rows;
  return data.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
}

interface Source {
  /** Where the data comes from or goes to. */
  name: string;
  /** Feeds it hostile input and asserts the defended outcome a user would see. */
  check(): Promise<void>;
}

const FORMULAS = ['=HYPERLINK("https://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1', '\uFF1D1+1', '\uFF0B1', '\uFF0D1', '\uFF20SUM(A1)', ' =1+1'];

const SOURCES: Source[] = [
  {
    name: 'CSV export read by a spreadsheet: no user text starts a formula',
    async check() {
      const v = await registerAndLogin(t);
      const a = await createAccount(t, v, { name: '=cmd|"/c calc"!A1' });
      for (const notes of FORMULAS) await createTransaction(t, v, { accountId: a.id, type: 'income', amount: '1.00', notes });
      const res = await t.api('/transactions/export?format=csv', { token: v.accessToken });
      expect(res.status).toBe(200);
      const rows = parseCsv(await res.text());
      expect(rows).toHaveLength(FORMULAS.length);
      for (const r of rows) {
        expect(r.notes.startsWith("'")).toBe(true);
        expect(r.accountName).toBe('\'=cmd|"/c calc"!A1');
      }
      expect(rows.map((r) => r.notes.slice(1)).sort()).toEqual([...FORMULAS].sort());
    },
  },
  {
    name: 'X-Forwarded-For from an untrusted client: ignored, the audit keeps the real address',
    async check() {
      const res = await t.api('/accounts', { method: 'POST', token: u.accessToken, json: { name: 'Proxy test', type: 'bank', currency: 'USD' }, headers: { 'x-forwarded-for': '203.0.113.66' } });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const entry = await t.db('audit_logs').where({ entity_id: id, action: 'account.create' }).first();
      expect(entry.ip).toMatch(/127\.0\.0\.1|::1/);
    },
  },
  {
    name: 'X-Request-Id from a client: only a well-formed one is echoed and logged',
    async check() {
      const hostile = await t.api('/healthz', { headers: { 'x-request-id': '<script>alert(1)</script>' } });
      expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const long = await t.api('/healthz', { headers: { 'x-request-id': 'a'.repeat(500) } });
      expect(long.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const fine = await t.api('/healthz', { headers: { 'x-request-id': 'edge-1234.abc' } });
      expect(fine.headers.get('x-request-id')).toBe('edge-1234.abc');
    },
  },
  {
    name: 'User-Agent from a client: stored in the audit entry cut to 512 characters',
    async check() {
      const res = await t.api('/accounts', { method: 'POST', token: u.accessToken, json: { name: 'UA test', type: 'bank', currency: 'USD' }, headers: { 'user-agent': 'U'.repeat(10_000) } });
      const { id } = (await res.json()) as { id: string };
      const entry = await t.db('audit_logs').where({ entity_id: id }).first();
      expect(entry.user_agent).toHaveLength(512);
    },
  },
  {
    name: 'Idempotency-Key from a client: refused unless 1–255 visible ASCII characters, and nothing is written',
    async check() {
      const a = await createAccount(t, u, { name: 'Idem test' });
      for (const key of ['', 'k'.repeat(256), 'key with space']) {
        const res = await t.api('/transactions', {
          method: 'POST',
          token: u.accessToken,
          json: { accountId: a.id, type: 'income', amount: '1.00', date: '2026-11-01' },
          headers: { 'idempotency-key': key },
        });
        await expectProblem(res, 400, 'validation_failed');
      }
      expect(await t.db('transactions').where({ account_id: a.id })).toEqual([]);
    },
  },
];

describe('API10 unsafe consumption', () => {
  it.each(SOURCES.map((s) => [s.name, s] as const))('%s', async (_name, source) => {
    await source.check();
  });
});
