import { useTestAppWithSmtp } from '../helpers/app.js';
import { expectProblem } from '../helpers/ledger.js';
import { eventually } from '../helpers/eventually.js';
import { registerAndLogin, uniqueEmail, type TestUser } from '../helpers/users.js';

/**
 * OWASP API6:2023 Unrestricted Access to Sensitive Business Flows: the flows a bot would flood —
 * sign-up, password-reset mail, 2FA code guessing — are bounded, and the bound is a 429 that
 * leaves nothing behind (no account, no mail, no 2FA).
 */
const { t, smtp } = useTestAppWithSmtp({ RATE_LIMIT_IP_PER_MINUTE: '20' }, { beforeStop: (app) => app.db('rate_limits').delete() });
beforeAll(async () => {
  // Earlier test files of this run counted their requests from 127.0.0.1 under a far higher limit;
  // this file's limit of 20 must start from empty counters, as it would on its own.
  await t.db('rate_limits').delete();
});

describe('API6 sensitive business flows', () => {
  it('bounds password-reset mail per email: the 6th request in an hour is 429 and sends nothing', async () => {
    const u = await registerAndLogin(t);
    const forgot = () => t.api('/auth/password/forgot', { method: 'POST', json: { email: u.email } });
    for (let i = 0; i < 5; i++) expect((await forgot()).status).toBe(202);
    // Registration mailed a verification link too: only the reset mails count here.
    await eventually('5 reset mails', () => smtp.mails.filter((m) => m.to.includes(u.email) && m.subject === 'Reset your Numina password').length === 5);
    await expectProblem(await forgot(), 429, 'rate_limited');
    // The same email in other letter case is the same bucket.
    await expectProblem(await t.api('/auth/password/forgot', { method: 'POST', json: { email: u.email.toUpperCase() } }), 429);
    const tokens = await t.db('password_reset_tokens').where({ user_id: u.id }).count<{ count: string }[]>('* as count');
    expect(tokens).toEqual([{ count: '5' }]);
  });

  it('bounds 2FA code guessing: after 10 wrong codes the 11th attempt is 429 and 2FA stays off', async () => {
    const u: TestUser = await registerAndLogin(t);
    expect((await t.api('/auth/2fa/setup', { method: 'POST', token: u.accessToken })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await t.api('/auth/2fa/enable', { method: 'POST', token: u.accessToken, json: { code: String(100000 + i), password: u.password } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.every((s) => s === 400)).toBe(true);
    await expectProblem(await t.api('/auth/2fa/enable', { method: 'POST', token: u.accessToken, json: { code: '123456', password: u.password } }), 429, 'rate_limited');
    const me = (await (await t.api('/users/me', { token: u.accessToken })).json()) as { twoFactorEnabled: boolean };
    expect(me.twoFactorEnabled).toBe(false);
  });

  it('bounds sign-ups from one address: beyond the per-address limit, 429 and no account', async () => {
    await t.db('rate_limits').delete();
    const emails: string[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 25; i++) {
      const email = uniqueEmail('flood');
      emails.push(email);
      last = await t.api('/auth/register', { method: 'POST', json: { email, password: `Flood-password-${i}-kettle` } });
      if (last.status === 429) break;
      expect(last.status).toBe(201);
    }
    await expectProblem(last!, 429, 'rate_limited');
    expect(emails.length).toBeLessThanOrEqual(21);
    expect(await t.db('users').where({ email: emails[emails.length - 1] }).first()).toBeUndefined();
  });
});
