import { startTestApp, type TestApp } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.stop();
});

describe('registration and login', () => {
  it('registers a user and logs in with the test helper', async () => {
    const u = await registerAndLogin(t);
    expect(u.accessToken).toEqual(expect.any(String));
    const me = await t.api('/users/me', { token: u.accessToken });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: u.id, email: u.email, role: 'user', twoFactorEnabled: false });
  });
});
