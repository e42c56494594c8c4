/**
 * The floor: a bare Express 5 + pg server that answers the seeded mix (scenario.ts) with the same
 * SQL statements the app sends for it — captured from PostgreSQL's statement log of one request of
 * each kind — and nothing else: no validation, authentication, rate limiting, idempotency, audit
 * hashing library, serialisation layers or logging. Writes run the whole statement list in one
 * transaction: lock, header, entries, balances, budget totals, goals, version, audit entry + chain
 * anchor, event counter, events; the realtime signal (pg_notify) after commit, as the app does.
 * Whatever the app costs above this is the application.
 *   node --import tsx load-tests/floor.ts <databaseUrl> <port>       (npm run bench:load -- --floor starts it)
 * "Authentication": the bearer token is the user id (POST /auth/login answers it for a seeded email).
 */
import { createHash, randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import pg from 'pg';

// Calendar dates stay strings, as the app reads them.
pg.types.setTypeParser(1082, (v: string) => v);
const [databaseUrl, port] = [process.argv[2], Number(process.argv[3] ?? 3999)];
const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.DATABASE_POOL_MAX ?? 20) });
type Q = pg.PoolClient | pg.Pool;
const rows = async <T extends pg.QueryResultRow = Record<string, unknown>>(q: Q, text: string, values: unknown[] = []) => (await q.query<T>(text, values)).rows;

const app = express();
app.use(express.json());
const userOf = (req: Request) => (req.headers.authorization ?? '').slice(7);
const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

app.post(['/auth/login', '/auth/refresh'], async (req: Request, res: Response) => {
  const body = req.body as { email?: string; refreshToken?: string };
  const id = body.refreshToken ?? (await rows<{ id: string }>(pool, 'select "users".* from "users" where lower(email) = $1', [String(body.email).toLowerCase()]))[0]?.id;
  if (!id) return res.status(401).json({});
  res.json({ accessToken: id, refreshToken: id, tokenType: 'Bearer', expiresIn: 900 });
});

app.get('/accounts', async (req, res) => {
  const data = await rows(pool, 'select "accounts".* from "accounts" where "user_id" = $1 order by "created_at" asc, "id" asc limit $2', [userOf(req), Number(req.query.limit ?? 50) + 1]);
  res.json({ data, nextCursor: null });
});

app.get('/categories', async (req, res) => {
  const data = await rows(pool, 'select "categories".* from "categories" where "user_id" = $1 and "kind" = $2 order by lower(name) limit $3', [userOf(req), req.query.kind, 501]);
  res.json({ data, nextCursor: null });
});

app.get('/transactions', async (req, res) => {
  const q = req.query as Record<string, string>;
  const data = await rows(
    pool,
    'select "transactions".* from "transactions" where "user_id" = $1 and ("account_id" = $2 or "to_account_id" = $3) and "type" = $4 and "date" >= $5 order by "date" desc, "id" desc limit $6',
    [userOf(req), q.accountId, q.accountId, q.type, q.from, Number(q.limit ?? 50) + 1],
  );
  res.json({ data: data.slice(0, Number(q.limit ?? 50)), nextCursor: null });
});

async function budgetsWithTotals(userId: string, budgets: { id: string }[]) {
  await rows(pool, 'select "time_zone", "currency" from "users" where "id" = $1 limit $2', [userId, 1]);
  if (!budgets.length) return budgets;
  const month = `${today().slice(0, 7)}-01`;
  const pairs = budgets.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
  const totals = await rows(pool, `select "budget_id", "period_start", "currency", "total" from "budget_totals" where ("budget_id", "period_start") in (${pairs})`, budgets.flatMap((b) => [b.id, month]));
  await rows(pool, 'SELECT version FROM exchange_rates_version');
  return budgets.map((b) => ({ ...b, totals: totals.filter((t) => t.budget_id === b.id) }));
}
app.get('/budgets', async (req, res) => {
  const budgets = await rows<{ id: string }>(pool, 'select "budgets".* from "budgets" where "user_id" = $1 order by "created_at" asc, "id" asc limit $2', [userOf(req), 51]);
  res.json({ data: await budgetsWithTotals(userOf(req), budgets), nextCursor: null });
});
app.get('/budgets/:id', async (req, res) => {
  const budgets = await rows<{ id: string }>(pool, 'select "budgets".* from "budgets" where "id" = $1 and "user_id" = $2', [req.params.id, userOf(req)]);
  if (!budgets.length) return res.status(404).json({});
  res.json((await budgetsWithTotals(userOf(req), budgets))[0]);
});

async function goalsWithProgress(userId: string, goals: { id: string }[]) {
  await rows(pool, 'select "time_zone", "currency" from "users" where "id" = $1 limit $2', [userId, 1]);
  if (!goals.length) return goals;
  const links = await rows<{ goal_id: string; account_id: string }>(
    pool,
    `select "goal_id", "account_id" from "goal_accounts" where "goal_id" in (${goals.map((_, i) => `$${i + 1}`).join(', ')}) order by "account_id" asc`,
    goals.map((g) => g.id),
  );
  const ids = [...new Set(links.map((l) => l.account_id))];
  const accounts = await rows(pool, `select "id", "currency", "balance", "archived" from "accounts" where "user_id" = $1 and "id" in (${ids.map((_, i) => `$${i + 2}`).join(', ')}) order by "id" asc`, [userId, ...ids]);
  const net = await rows(
    pool,
    `SELECT e.account_id, sum(e.amount)::text AS net FROM entries e JOIN transactions t ON t.id = e.transaction_id
      WHERE e.user_id = $1 AND e.account_id = ANY($2::uuid[]) AND t.date BETWEEN $3::date AND $4::date GROUP BY e.account_id`,
    [userId, ids, daysAgo(89), today()],
  );
  await rows(pool, 'SELECT version FROM exchange_rates_version');
  return goals.map((g) => ({ ...g, accounts: accounts.filter((a) => links.some((l) => l.goal_id === g.id && l.account_id === a.id)), net }));
}
app.get('/goals', async (req, res) => {
  const goals = await rows<{ id: string }>(pool, 'select "goals".* from "goals" where "user_id" = $1 order by "created_at" asc, "id" asc limit $2', [userOf(req), 51]);
  res.json({ data: await goalsWithProgress(userOf(req), goals), nextCursor: null });
});
app.get('/goals/:id', async (req, res) => {
  const goals = await rows<{ id: string }>(pool, 'select "goals".* from "goals" where "id" = $1 and "user_id" = $2', [req.params.id, userOf(req)]);
  if (!goals.length) return res.status(404).json({});
  res.json((await goalsWithProgress(userOf(req), goals))[0]);
});

// ---------------------------------------------------------------- reports (their SQL verbatim; no exchange rates in the bench data)
const RATE_PAIRS = `
      WITH RECURSIVE p AS (
        (SELECT base, quote FROM exchange_rates ORDER BY base, quote LIMIT 1)
        UNION ALL
        SELECT n.base, n.quote FROM p CROSS JOIN LATERAL (
          SELECT base, quote FROM exchange_rates WHERE (base, quote) > (p.base, p.quote) ORDER BY base, quote LIMIT 1
        ) n
      )
      SELECT base, quote FROM p`;
const RATES = 'WITH r AS (SELECT * FROM unnest($1::text[], $2::date[], $3::numeric[], $4::numeric[]) AS r(currency, date, num, den)),';
const MONTHLY = `${RATES}
     t AS (SELECT currency, date, type, sum(amount) AS amount FROM transactions
            WHERE user_id = $5 AND type <> 'transfer' AND date BETWEEN $6::date AND $7::date GROUP BY currency, date, type),
     c AS (SELECT t.currency, t.date, t.type, CASE WHEN t.currency = $8 THEN t.amount ELSE t.amount * r.num / r.den END AS value
             FROM t LEFT JOIN r ON r.currency = t.currency AND r.date = t.date),
     m AS (SELECT date_trunc('month', date::timestamp)::date AS month, sum(value) FILTER (WHERE type = 'income') AS income,
                  sum(value) FILTER (WHERE type = 'expense') AS expense FROM c GROUP BY 1)
     SELECT 'row' AS kind, to_char(g.month, 'YYYY-MM') AS key, coalesce(m.income, 0)::text AS a, coalesce(m.expense, 0)::text AS b
       FROM generate_series($9::date, $10::date, interval '1 month') AS g(month) LEFT JOIN m ON m.month = g.month::date
     UNION ALL SELECT 'missing', currency, min(date)::text, NULL FROM c WHERE value IS NULL GROUP BY currency
     ORDER BY kind DESC, key`;
const CATEGORIES = `${RATES}
     t AS (SELECT category_id, currency, date, sum(amount) AS amount FROM transactions
            WHERE user_id = $5 AND type = $6 AND date BETWEEN $7::date AND $8::date GROUP BY category_id, currency, date),
     c AS (SELECT t.category_id, t.currency, t.date, CASE WHEN t.currency = $9 THEN t.amount ELSE t.amount * r.num / r.den END AS value
             FROM t LEFT JOIN r ON r.currency = t.currency AND r.date = t.date)
     SELECT 'row' AS kind, c.category_id::text AS key, k.name AS a, sum(c.value)::text AS b
       FROM c LEFT JOIN categories k ON k.id = c.category_id AND k.user_id = $10 GROUP BY c.category_id, k.name HAVING sum(c.value) IS NOT NULL
     UNION ALL SELECT 'missing', currency, min(date)::text, NULL FROM c WHERE value IS NULL GROUP BY currency`;
const EOM = (d: string) => `least((date_trunc('month', (${d})::timestamp)::date + interval '1 month' - interval '1 day')::date, $5::date)`;
const NET_WORTH = `${RATES}
     pts AS (SELECT DISTINCT ${EOM('d')} AS date FROM generate_series($6::date, $7::date, interval '1 day') AS d),
     acc AS (SELECT a.id, a.currency, a.opening_balance, c.created_on FROM accounts a JOIN unnest($8::uuid[], $9::date[]) AS c(id, created_on) ON c.id = a.id WHERE a.user_id = $10),
     mv AS (SELECT l.account_id, t.date, sum(l.amount) AS amount FROM transactions t
              CROSS JOIN LATERAL (VALUES (t.account_id, CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END), (t.to_account_id, t.to_amount)) AS l(account_id, amount)
             WHERE t.user_id = $11 AND t.date <= $12::date AND l.account_id IS NOT NULL GROUP BY l.account_id, t.date),
     b AS (SELECT account_id, greatest(${EOM('date')}, ${EOM('$6::date')}) AS date, sum(amount) AS amount, min(date) AS first_move FROM mv GROUP BY 1, 2),
     grid AS (SELECT a.id, a.currency, p.date,
                     CASE WHEN least(a.created_on, f.first_move) <= p.date THEN a.opening_balance ELSE 0 END
                       + sum(coalesce(b.amount, 0)) OVER (PARTITION BY a.id ORDER BY p.date) AS balance
                FROM acc a LEFT JOIN (SELECT account_id, min(first_move) AS first_move FROM b GROUP BY account_id) f ON f.account_id = a.id
                CROSS JOIN pts p LEFT JOIN b ON b.account_id = a.id AND b.date = p.date),
     c AS (SELECT g.date, g.currency, g.balance, CASE WHEN g.currency = $13 THEN g.balance ELSE g.balance * r.num / r.den END AS value
             FROM grid g LEFT JOIN r ON r.currency = g.currency AND r.date = g.date)
     SELECT 'row' AS kind, date::text AS key, coalesce(sum(value) FILTER (WHERE value > 0), 0)::text AS a, coalesce(-sum(value) FILTER (WHERE value < 0), 0)::text AS b
       FROM c GROUP BY date
     UNION ALL SELECT 'missing', currency, min(date)::text, NULL FROM c WHERE value IS NULL AND balance <> 0 GROUP BY currency
     ORDER BY kind DESC, key`;

async function report(req: Request, res: Response, run: (c: pg.PoolClient, userId: string, accounts: { id: string; created_at: Date }[]) => Promise<unknown[]>) {
  const c = await pool.connect();
  try {
    await c.query('BEGIN TRANSACTION ISOLATION LEVEL repeatable read READ ONLY');
    const accounts = await rows<{ id: string; created_at: Date }>(c, 'select "id", "currency", "created_at" from "accounts" where "user_id" = $1', [userOf(req)]);
    await c.query('SELECT version FROM exchange_rates_version');
    await c.query(RATE_PAIRS);
    const out = await run(c, userOf(req), accounts);
    await c.query('COMMIT');
    res.json({ data: out });
  } catch (e) {
    await c.query('ROLLBACK');
    throw e;
  } finally {
    c.release();
  }
}
const none = [[], [], [], []];
app.get('/reports/monthly', (req, res) =>
  report(req, res, (c, u) => {
    const first = `${daysAgo(335).slice(0, 7)}-01`;
    return rows(c, MONTHLY, [...none, u, first, today(), 'USD', first, `${today().slice(0, 7)}-01`]);
  }),
);
app.get('/reports/categories', (req, res) => report(req, res, (c, u) => rows(c, CATEGORIES, [...none, u, 'expense', `${today().slice(0, 7)}-01`, today(), 'USD', u])));
app.get('/reports/net-worth', (req, res) =>
  report(req, res, (c, u, accounts) => {
    const from = daysAgo(365);
    const ids = accounts.map((a) => a.id);
    const created = accounts.map((a) => new Date(a.created_at).toISOString().slice(0, 10));
    return rows(c, NET_WORTH, [...none, today(), from, today(), ids, created, u, u, today(), 'USD']);
  }),
);

// ---------------------------------------------------------------- writes: the ledger's statement list, in one transaction
interface Body {
  accountId: string;
  toAccountId?: string;
  type: 'income' | 'expense' | 'transfer';
  amount: string;
  date: string;
  categoryId?: string;
  notes?: string;
}

async function inWrite(fn: (c: pg.PoolClient) => Promise<{ userId: string; events: number; status: number; body?: unknown }>, res: Response) {
  const c = await pool.connect();
  let out;
  try {
    await c.query('BEGIN');
    out = await fn(c);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK');
    throw e;
  } finally {
    c.release();
  }
  await pool.query('SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS s(c, p)', [['numina_events'], [JSON.stringify({ userId: out.userId, seq: 0 })]]);
  if (out.status === 204) res.status(204).end();
  else res.status(out.status).json(out.body);
}

/** Budgets, goals, version, audit entry and events of one ledger write (after header, entries and balances). */
async function afterPosting(c: pg.PoolClient, userId: string, id: string, action: string, categoryId: string | null, accountIds: string[], delta: string, date: string, view: unknown) {
  let events = 1 + accountIds.length;
  if (categoryId) {
    const budgets = await rows<{ id: string }>(c, 'select "budgets".* from "budgets" where "user_id" = $1 and "category_id" in ($2) order by "id" asc for no key update', [userId, categoryId]);
    await rows(c, 'select "time_zone", "currency" from "users" where "id" = $1 limit $2', [userId, 1]);
    for (const b of budgets) {
      await c.query(
        `WITH up AS (INSERT INTO budget_totals (budget_id, period_start, currency, total) VALUES ($1, $2, $3, $4::numeric)
           ON CONFLICT (budget_id, period_start, currency) DO UPDATE SET total = budget_totals.total + EXCLUDED.total RETURNING currency, total)
           SELECT currency, total::text AS total FROM up
           UNION ALL SELECT currency, total::text FROM budget_totals WHERE budget_id = $5 AND period_start = $6 AND currency <> $7`,
        [b.id, `${date.slice(0, 7)}-01`, 'USD', delta, b.id, `${date.slice(0, 7)}-01`, 'USD'],
      );
    }
  }
  const goals = await rows<{ id: string }>(
    c,
    `select "goals".* from "goals" where "user_id" = $1 and "id" in (select "goal_id" from "goal_accounts" where "user_id" = $2 and "account_id" in (${accountIds.map((_, i) => `$${i + 3}`).join(', ')})) order by "id" asc for no key update`,
    [userId, userId, ...accountIds],
  );
  if (goals.length) {
    await rows(c, 'select "time_zone", "currency" from "users" where "id" = $1 limit $2', [userId, 1]);
    const links = await rows<{ account_id: string }>(c, 'select "goal_id", "account_id" from "goal_accounts" where "goal_id" = ANY($1::uuid[]) order by "account_id" asc', [goals.map((g) => g.id)]);
    await rows(c, 'select "id", "currency", "balance", "archived" from "accounts" where "user_id" = $1 and "id" = ANY($2::uuid[]) order by "id" asc', [userId, links.map((l) => l.account_id)]);
    events += goals.length;
  }
  const json = JSON.stringify(view);
  const now = new Date();
  await c.query(
    `INSERT INTO transaction_versions (transaction_id, user_id, version, action, actor_id, at, before, after)
       SELECT $1::uuid, $2::uuid, coalesce(max(version), 0) + 1, $3, $4::uuid, $5::timestamptz, $6::jsonb, $7::jsonb FROM transaction_versions WHERE transaction_id = $8::uuid`,
    [id, userId, action, userId, now, action === 'create' ? null : json, action === 'delete' ? null : json, id],
  );
  await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`audit:${userId}`]);
  const head = await rows<{ length: string; head_hash: string }>(c, 'select "length", "head_hash" from "audit_chain_anchors" where "chain" = $1 order by "length" desc limit $2', [userId, 1]);
  const auditId = randomUUID();
  const pii = sha(json);
  const hash = sha(`${head[0]?.head_hash ?? ''}${auditId}${pii}`);
  // The entry and its anchor in one statement, as the app writes them.
  await c.query(
    `WITH l AS (
       insert into "audit_logs" ("action", "actor_id", "after", "at", "before", "chain", "entity_id", "entity_type", "hash", "id", "ip", "pii_digest", "prev_hash", "request_id", "user_agent", "user_id")
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) returning id, seq)
     insert into "audit_chain_anchors" ("at", "chain", "head_hash", "head_id", "head_seq", "length") select $4, $6, $9, l.id, l.seq, $17 from l`,
    [`transaction.${action}`, userId, action === 'delete' ? null : json, now, action === 'create' ? null : json, userId, id, 'transaction', hash, auditId, '127.0.0.1', pii, head[0]?.head_hash ?? null, randomUUID(), 'floor', userId, Number(head[0]?.length ?? 0) + 1],
  );
  // The counter bump and the events in one statement, as the app's outbox writes them.
  await c.query(
    `WITH s AS (
       INSERT INTO user_event_seq (user_id, last_seq) VALUES ($1::uuid, $2::bigint)
       ON CONFLICT (user_id) DO UPDATE SET last_seq = user_event_seq.last_seq + EXCLUDED.last_seq
       RETURNING last_seq
     ), e AS (
       INSERT INTO events (user_id, seq, type, data, at)
       SELECT $1::uuid, s.last_seq - $2::bigint + u.i, u.type, u.data, $3::timestamptz
         FROM s, unnest($4::text[], $5::jsonb[]) WITH ORDINALITY AS u(type, data, i)
     )
     SELECT last_seq FROM s`,
    [userId, events, now, Array.from({ length: events }, (_, i) => (i === 0 ? `transaction.${action}d` : 'balance.updated')), Array.from({ length: events }, (_, i) => (i === 0 ? JSON.stringify({ transaction: view }) : '{}'))],
  );
  return events;
}

async function post(c: pg.PoolClient, userId: string, b: Body, existing?: { id: string }) {
  const ids = [b.accountId, ...(b.toAccountId ? [b.toAccountId] : [])];
  await c.query(`select "accounts".* from "accounts" where "user_id" = $1 and "id" in (${ids.map((_, i) => `$${i + 2}`).join(', ')}) order by "id" asc for update`, [userId, ...ids]);
  if (b.categoryId) await c.query('select "kind" from "categories" where "id" = $1 and "user_id" = $2 limit $3 for key share', [b.categoryId, userId, 1]);
  const now = new Date();
  const header = [b.accountId, b.amount, b.categoryId ?? null, 'USD', b.date, b.notes ?? null, b.toAccountId ?? null, b.toAccountId ? b.amount : null, b.toAccountId ? 'USD' : null, b.type, now];
  const [row] = existing
    ? await rows<{ id: string }>(
        c,
        'update "transactions" set "account_id" = $1, "amount" = $2, "category_id" = $3, "currency" = $4, "date" = $5, "notes" = $6, "to_account_id" = $7, "to_amount" = $8, "to_currency" = $9, "type" = $10, "updated_at" = $11 where "id" = $12 and "user_id" = $13 returning *',
        [...header, existing.id, userId],
      )
    : await rows<{ id: string }>(
        c,
        'insert into "transactions" ("account_id", "amount", "category_id", "currency", "date", "notes", "to_account_id", "to_amount", "to_currency", "type", "updated_at", "created_at", "recurring_id", "user_id") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, NULL, $12) returning *',
        [...header, userId],
      );
  if (existing) await c.query('delete from "entries" where "transaction_id" = $1', [row.id]);
  const legs = b.toAccountId ? [[b.accountId, `-${b.amount}`], [b.toAccountId, b.amount]] : [[b.accountId, b.type === 'income' ? b.amount : `-${b.amount}`]];
  await c.query(
    `insert into "entries" ("account_id", "amount", "currency", "transaction_id", "user_id") values ${legs.map((_, i) => `($${5 * i + 1}, $${5 * i + 2}, $${5 * i + 3}, $${5 * i + 4}, $${5 * i + 5})`).join(', ')}`,
    legs.flatMap(([a, amt]) => [a, amt, 'USD', row.id, userId]),
  );
  for (const [a, amt] of legs) await c.query('UPDATE accounts SET balance = balance + $1::numeric WHERE id = $2 RETURNING balance', [amt, a]);
  await afterPosting(c, userId, row.id, existing ? 'update' : 'create', b.type === 'expense' ? (b.categoryId ?? null) : null, ids, b.amount, b.date, row);
  return row;
}

app.post('/transactions', (req, res) =>
  inWrite(async (c) => {
    const row = await post(c, userOf(req), req.body as Body);
    return { userId: userOf(req), events: 2, status: 201, body: row };
  }, res),
);

async function lockOwn(c: pg.PoolClient, id: string, userId: string) {
  const [t] = await rows<{ id: string; account_id: string; to_account_id: string | null; category_id: string | null; amount: string; date: string }>(
    c,
    'select "transactions".* from "transactions" where "id" = $1 and "user_id" = $2 for update',
    [id, userId],
  );
  if (!t) return undefined;
  const entries = await rows<{ account_id: string; amount: string }>(c, 'select "entries".* from "entries" where "transaction_id" = $1', [id]);
  return { t, entries };
}

app.put('/transactions/:id', (req, res) =>
  inWrite(async (c) => {
    const own = await lockOwn(c, req.params.id, userOf(req));
    if (!own) return { userId: userOf(req), events: 0, status: 404, body: {} };
    const row = await post(c, userOf(req), req.body as Body, own.t);
    return { userId: userOf(req), events: 2, status: 200, body: row };
  }, res),
);

app.delete('/transactions/:id', (req, res) =>
  inWrite(async (c) => {
    const userId = userOf(req);
    const own = await lockOwn(c, req.params.id, userId);
    if (!own) return { userId, events: 0, status: 404, body: {} };
    const ids = own.entries.map((e) => e.account_id);
    await c.query(`select "accounts".* from "accounts" where "user_id" = $1 and "id" in (${ids.map((_, i) => `$${i + 2}`).join(', ')}) order by "id" asc for update`, [userId, ...ids]);
    await c.query('delete from "transactions" where "id" = $1 and "user_id" = $2', [own.t.id, userId]);
    for (const e of own.entries) await c.query('UPDATE accounts SET balance = balance - $1::numeric WHERE id = $2 RETURNING balance', [e.amount, e.account_id]);
    await afterPosting(c, userId, own.t.id, 'delete', own.t.category_id, ids, `-${own.t.amount}`, String(own.t.date), own.t);
    return { userId, events: 2, status: 204 };
  }, res),
);

app.use((err: Error, _req: Request, res: Response, _next: (e?: unknown) => void) => {
  console.error(`floor: ${err.message}`);
  res.status(500).json({ error: err.message });
});

app.get('/readyz', (_req, res) => void res.json({ ok: true }));
app.listen(port, '127.0.0.1');
