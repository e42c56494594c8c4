import { useTestApp } from '../helpers/app.js';
import { categoryNamed, createAccount, createTransaction, expectProblem } from '../helpers/ledger.js';
import { eventually } from '../helpers/eventually.js';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js';
import { registerAndLogin, type TestUser } from '../helpers/users.js';
import { freePort } from '../helpers/net.js';

let smtp: TestSmtp | undefined;
let smtpPort: number;
const t = useTestApp(
  async () => {
    // A port nothing listens on yet (SMTP starts there later, to show the mail job retries).
    smtpPort = await freePort();
    return { SMTP_URL: `smtp://127.0.0.1:${smtpPort}` };
  },
  { clock: new Date('2026-11-20T12:00:00Z') },
);
afterAll(async () => {
  await smtp?.stop();
});

/** Marks the address verified when the auth feature's column exists (alert mail needs a verified address). */
async function verify(u: TestUser): Promise<void> {
  const { rows } = await t.db.raw(`SELECT 1 FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'email_verified_at'`);
  if (rows.length) await t.db('users').where({ id: u.id }).update({ email_verified_at: new Date() });
}

async function budgetUser(amount = '10.00') {
  const u = await registerAndLogin(t);
  const acc = await createAccount(t, u, { openingBalance: '1000.00' });
  const food = await categoryNamed(t, u, 'Food');
  const res = await t.api('/budgets', { method: 'POST', token: u.accessToken, json: { categoryId: food.id, amount, period: 'monthly', thresholds: ['0.5', '1', '1.5', '2'] } });
  expect(res.status).toBe(201);
  const spend = (value: string) => createTransaction(t, u, { accountId: acc.id, type: 'expense', amount: value, date: '2026-11-20', categoryId: food.id });
  return { u, spend };
}

type Page = { data: { id: string; type: string; payload: Record<string, string>; createdAt: string; readAt: string | null }[]; nextCursor: string | null };

describe('notifications', () => {
  it('lists newest first with a cursor, filters unread, marks one or all read (204), and 404s a foreign id', async () => {
    const { u, spend } = await budgetUser();
    for (const v of ['5.00', '5.00', '5.00', '5.00']) {
      await spend(v);
      t.clock.advance(1000);
    }
    const first = (await (await t.api('/notifications?limit=3', { token: u.accessToken })).json()) as Page;
    expect(first.data.map((n) => n.payload.threshold)).toEqual(['2', '1.5', '1']);
    expect(first.data[0]).toEqual({ id: expect.any(String), type: 'budget.alert', payload: expect.objectContaining({ spent: '20.00' }), createdAt: expect.any(String), readAt: null });
    const second = (await (await t.api(`/notifications?limit=3&cursor=${first.nextCursor}`, { token: u.accessToken })).json()) as Page;
    expect(second).toEqual({ data: [expect.objectContaining({ payload: expect.objectContaining({ threshold: '0.5', spent: '5.00' }) })], nextCursor: null });

    const read = await t.api(`/notifications/${first.data[1].id}/read`, { method: 'POST', token: u.accessToken });
    expect(read.status).toBe(204);
    const unread = (await (await t.api('/notifications?unread=true', { token: u.accessToken })).json()) as Page;
    expect(unread.data.map((n) => n.payload.threshold)).toEqual(['2', '1', '0.5']);

    const other = await registerAndLogin(t);
    await expectProblem(await t.api(`/notifications/${first.data[0].id}/read`, { method: 'POST', token: other.accessToken }), 404, 'not_found');
    expect((await (await t.api('/notifications', { token: other.accessToken })).json()) as Page).toEqual({ data: [], nextCursor: null });
    expect((await t.api('/notifications/read-all', { method: 'POST', token: other.accessToken })).status).toBe(204);
    expect(((await (await t.api('/notifications?unread=true', { token: u.accessToken })).json()) as Page).data).toHaveLength(3);

    expect((await t.api('/notifications/read-all', { method: 'POST', token: u.accessToken })).status).toBe(204);
    expect((await (await t.api('/notifications?unread=true', { token: u.accessToken })).json()) as Page).toEqual({ data: [], nextCursor: null });
    await expectProblem(await t.api('/notifications?unread=maybe', { token: u.accessToken }), 400, 'validation_failed');
  });

  it('mails an alert after commit only to users who opted in, and retries while SMTP is down', async () => {
    const quiet = await budgetUser();
    const loud = await budgetUser();
    await verify(quiet.u);
    await verify(loud.u);
    const patch = await t.api('/users/me', { method: 'PATCH', token: loud.u.accessToken, json: { notifyByEmail: true } });
    expect(patch.status).toBe(200);
    expect(await patch.json()).toMatchObject({ notifyByEmail: true });
    expect(await (await t.api('/users/me', { token: loud.u.accessToken })).json()).toMatchObject({ notifyByEmail: true });
    expect(await (await t.api('/users/me', { token: quiet.u.accessToken })).json()).toMatchObject({ notifyByEmail: false });
    await expectProblem(await t.api('/users/me', { method: 'PATCH', token: loud.u.accessToken, json: { notifyByEmail: 'yes' } }), 400, 'validation_failed');

    // SMTP is down: the writes still succeed at once, and the jobs wait for it.
    await quiet.spend('6.00');
    await loud.spend('6.00');
    // The loud user's mail job fails against the closed port and waits in the queue for its retry.
    // This test's jobs only: the run's database is shared, and other files leave mail jobs retrying
    // against SMTP servers they have stopped.
    const mailJobs = () =>
      t.db.withSchema('pgboss').from('job').where({ name: 'notification.mail' }).whereRaw("data->>'userId' = ANY(?)", [[quiet.u.id, loud.u.id]]);
    const failing = await eventually('the mail job to fail and wait for its retry', async () => {
      const rows = await mailJobs().where({ state: 'retry' }).where('retry_count', '>=', 1);
      return rows.length > 0 && rows;
    }, 20_000);
    expect(failing).toHaveLength(1);
    smtp = await startTestSmtp(smtpPort);
    // Retries back off (5 s, 10 s, 20 s …): on a loaded machine the job may have failed twice or
    // three times before SMTP came up, so its next attempt can be ~40 s away — a bound, not a speed check.
    const mail = await smtp.waitForMail(loud.u.email, 90_000);
    expect(mail.subject).toBe('Budget alert: Food reached 50%');
    expect(mail.text).toContain('spent 6.00 of 10.00 USD');
    // The queue empties: the quiet user's job ran too, and sent nothing.
    await eventually('the mail queue to empty', async () => (await mailJobs().whereIn('state', ['created', 'retry', 'active'])).length === 0 || undefined, 90_000);
    expect(smtp.mails.filter((m) => m.to.includes(quiet.u.email.toLowerCase()))).toEqual([]);
    expect(smtp.mails.filter((m) => m.to.includes(loud.u.email.toLowerCase()))).toHaveLength(1);
  }, 240_000);
});
