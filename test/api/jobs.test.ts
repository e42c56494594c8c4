import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '../../server/shared/db.js';
import { createJobs, cronFor, type Jobs } from '../../server/shared/jobs.js';
import { createLogger } from '../../server/shared/logger.js';
import { testDatabaseUrl, useTestApp } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';
import { eventually } from '../helpers/eventually.js';

const DAY = 24 * 60 * 60 * 1000;

describe('scheduled purges of expired rows (injected clock)', () => {
  const t = useTestApp();

  const countFor = async (table: string, userId: string) => Number((await t.db(table).where({ user_id: userId }).count({ n: '*' }))[0].n);

  it('keeps live sessions, tokens and counters, and deletes them once the clock passes their expiry', async () => {
    const u = await registerAndLogin(t);
    // One spent refresh token (kept: replaying it must still revoke the login) and one live one.
    const refreshed = await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } });
    expect(refreshed.status).toBe(200);
    const { accessToken } = (await refreshed.json()) as { accessToken: string };
    expect((await t.api('/auth/password/forgot', { method: 'POST', json: { email: u.email } })).status).toBe(202);
    await eventually('the reset token row', async () => (await countFor('password_reset_tokens', u.id)) === 1, 20_000);
    // A failed login leaves a counter behind.
    expect((await t.api('/auth/login', { method: 'POST', json: { email: u.email, password: 'wrong-password-123' } })).status).toBe(401);
    const counters = async () => Number((await t.db('rate_limits').count({ n: '*' }))[0].n);
    expect(await counters()).toBeGreaterThan(0);

    for (const job of ['auth.sessions.purge', 'auth.refresh-tokens.purge', 'auth.reset-tokens.purge', 'auth.email-tokens.purge', 'rate-limits.purge', 'idempotency.purge']) {
      await t.app.ctx.jobs.runNow(job);
    }
    expect(await countFor('auth_sessions', u.id)).toBe(1);
    expect(await countFor('refresh_tokens', u.id)).toBe(2);
    expect(await countFor('password_reset_tokens', u.id)).toBe(1);
    expect(await counters()).toBeGreaterThan(0);
    expect((await t.api('/users/me', { token: accessToken })).status).toBe(200);

    // Two hours on: the reset token (≤ 1 h) and the one-minute / 15-minute counters have expired.
    t.clock.advance(2 * 60 * 60 * 1000);
    // Counts are database-wide (other files' users share the run's database); the user's rows are checked below.
    expect(await t.app.ctx.jobs.runNow('auth.reset-tokens.purge')).toBeGreaterThanOrEqual(1);
    expect(await t.app.ctx.jobs.runNow('rate-limits.purge')).toBeGreaterThan(0);
    expect(await countFor('password_reset_tokens', u.id)).toBe(0);
    expect(await t.db('rate_limits').where('reset_at', '<', t.clock.now()).count({ n: '*' }).then((r) => Number(r[0].n))).toBe(0);
    expect(await countFor('auth_sessions', u.id)).toBe(1);

    // A year on, the login itself has expired: its session and both refresh tokens go.
    t.clock.advance(365 * DAY);
    expect(await t.app.ctx.jobs.runNow('auth.refresh-tokens.purge')).toBeGreaterThanOrEqual(2);
    expect(await countFor('refresh_tokens', u.id)).toBe(0);
    expect(await t.app.ctx.jobs.runNow('auth.sessions.purge')).toBeGreaterThanOrEqual(1);
    expect(await countFor('auth_sessions', u.id)).toBe(0);
  });

  it('purges expired idempotency keys and keeps live ones', async () => {
    t.clock.set(new Date());
    const u = await registerAndLogin(t);
    const acc = await t.api('/accounts', { method: 'POST', token: u.accessToken, json: { name: 'Cash', type: 'cash', currency: 'USD' } });
    const { id: accountId } = (await acc.json()) as { id: string };
    const post = await t.api('/transactions', {
      method: 'POST',
      token: u.accessToken,
      headers: { 'idempotency-key': randomUUID() },
      json: { accountId, type: 'income', amount: '5.00', date: '2026-11-01' },
    });
    expect(post.status).toBe(201);
    await t.app.ctx.jobs.runNow('idempotency.purge');
    expect(await countFor('idempotency_keys', u.id)).toBe(1);
    t.clock.advance(DAY + 60_000);
    await t.app.ctx.jobs.runNow('idempotency.purge');
    expect(await countFor('idempotency_keys', u.id)).toBe(0);
  });

  it('schedules every purge on the queue', () => {
    const names = t.app.ctx.jobs.scheduled().map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(['auth.sessions.purge', 'auth.refresh-tokens.purge', 'auth.reset-tokens.purge', 'rate-limits.purge', 'idempotency.purge']),
    );
  });
});

describe('the job queue (pg-boss in PostgreSQL)', () => {
  let db: Db;
  const started: Jobs[] = [];
  beforeAll(() => {
    db = createDb(testDatabaseUrl(), 2);
  });
  afterAll(async () => {
    for (const j of started) await j.stop();
    await db.destroy();
  });
  const logger = createLogger('silent');
  const newJobs = () => {
    const j = createJobs({ logger, databaseUrl: testDatabaseUrl(), pollingIntervalSeconds: 0.5 });
    started.push(j);
    return j;
  };

  it('runs each one-off job exactly once across two instances', async () => {
    const queue = `test.once-${randomUUID().slice(0, 8)}`;
    const seen: { instance: string; n: number }[] = [];
    const a = newJobs();
    const b = newJobs();
    a.work<{ n: number }>(queue, async ({ payload: { n } }) => void seen.push({ instance: 'a', n }));
    b.work<{ n: number }>(queue, async ({ payload: { n } }) => void seen.push({ instance: 'b', n }));
    await Promise.all([a.start(), b.start()]);
    for (let n = 0; n < 20; n++) await (n % 2 ? a : b).send(queue, { n });
    await eventually('20 jobs', () => seen.length >= 20, 20_000);
    expect(seen.map((s) => s.n).sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
  });

  it('enqueues inside a database transaction: a rollback sends nothing, a commit runs it after commit', async () => {
    const queue = `test.trx-${randomUUID().slice(0, 8)}`;
    const seen: string[] = [];
    const j = newJobs();
    j.work<{ id: string }>(queue, async ({ payload: { id } }) => {
      // Runs after commit: the row the job names is visible.
      const row = await db('users').where({ id }).first('id');
      seen.push(row ? `committed:${id}` : `invisible:${id}`);
    });
    await j.start();
    const rolledBack = randomUUID();
    await db
      .transaction(async (trx) => {
        await j.enqueue(trx, queue, { id: rolledBack });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    const committed = randomUUID();
    await db.transaction(async (trx) => {
      await trx('users').insert({ id: committed, email: `${committed}@example.com`, currency: 'USD', time_zone: 'UTC', created_at: new Date() });
      await j.enqueue(trx, queue, { id: committed });
    });
    await eventually('the committed job', () => seen.length >= 1, 20_000);
    expect(seen).toEqual([`committed:${committed}`]);
    await db('users').where({ id: committed }).del();
  });

  it('retries a run that fails', async () => {
    const queue = `test.retry-${randomUUID().slice(0, 8)}`;
    let attempts = 0;
    const tries: number[] = [];
    const j = newJobs();
    j.work(
      queue,
      async ({ attempt }) => {
        attempts++;
        tries.push(attempt);
        if (attempts === 1) throw new Error('transient');
      },
      { retryDelayMs: 1000 },
    );
    await j.start();
    await j.send(queue, {});
    await eventually('the retry', () => attempts >= 2, 20_000);
    expect(attempts).toBe(2);
    expect(tries).toEqual([1, 2]);
  });

  it('drain runs every due job now, once each (tests and operators)', async () => {
    const queue = `test.drain-${randomUUID().slice(0, 8)}`;
    const seen: number[] = [];
    // A slow poller, so drain (not the background worker) is what runs them.
    const j = createJobs({ logger, databaseUrl: testDatabaseUrl(), pollingIntervalSeconds: 600 });
    started.push(j);
    j.work<{ n: number }>(queue, async ({ payload: { n } }) => void seen.push(n));
    await j.start();
    for (const n of [1, 2, 3]) await j.send(queue, { n });
    expect(await j.drain()).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3]);
    expect(await j.drain()).toBe(0);
  });

  it('turns periods into cron expressions and refuses ones cron cannot express', () => {
    expect(cronFor(5 * 60_000)).toBe('*/5 * * * *');
    expect(cronFor(60 * 60_000)).toBe('0 * * * *');
    expect(cronFor(6 * 60 * 60_000)).toBe('0 */6 * * *');
    expect(cronFor('7 * * * *')).toBe('7 * * * *');
    expect(() => cronFor(7 * 60_000)).toThrow(/cron/);
  });

  it('stops cleanly: after stop nothing can be queued through it', async () => {
    const j = newJobs();
    j.work('test.stop', async () => undefined);
    await j.start();
    await j.stop();
    await expect(j.send('test.stop', {})).rejects.toThrow(/not started/);
  });
});
