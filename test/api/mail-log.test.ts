import { useTestApp } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';
import { eventually } from '../helpers/eventually.js';
import { captureLogs } from '../helpers/logs.js';

describe('production without SMTP_URL', () => {
  const sink = captureLogs();
  const t = useTestApp({ NODE_ENV: 'production', LOG_LEVEL: 'info' }, { logStream: sink.stream });

  it('drops reset and verification mails and logs only that they were dropped, never a link or token', async () => {
    const u = await registerAndLogin(t);
    expect((await t.api('/auth/password/forgot', { method: 'POST', json: { email: u.email } })).status).toBe(202);
    await eventually('two mails dropped', () => sink.lines.filter((l) => l.includes('mail dropped')).length >= 2);
    // A reset was really requested (its hash is stored), yet no line carries its link.
    expect(await t.db('password_reset_tokens').where({ user_id: u.id })).toHaveLength(1);
    const log = sink.lines.join('');
    expect(log).not.toMatch(/reset-password|verify-email|token=/);
    expect(log).not.toContain(u.email);
    for (const line of sink.lines.filter((l) => l.includes('mail dropped'))) expect(JSON.parse(line).level).toBe(40);
  });

  it('never writes the credentials of a request to the log', async () => {
    const u = await registerAndLogin(t);
    await t.api('/auth/login', { method: 'POST', json: { email: u.email, password: 'Wrong-password-in-log-1' } });
    await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: u.refreshToken } });
    const log = sink.lines.join('');
    expect(log).not.toContain('Wrong-password-in-log-1');
    expect(log).not.toContain(u.refreshToken);
    expect(log).not.toContain(u.accessToken);
  });
});
