import { startTestApp, type TestApp } from '../helpers/app.js';
import { panel, panelSignIn, registerAdmin } from '../helpers/admin.js';
import { registerAndLogin } from '../helpers/users.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
}, 120_000);
afterAll(async () => {
  await t.stop();
});

describe('smoke', () => {
  it('works', async () => {
    const anon = await panel(t, '/admin', null);
    expect(anon.status).toBe(302);
    expect(anon.headers.get('location')).toBe('/admin/login');
    const a = await registerAdmin(t);
    const s = await panelSignIn(t, a.email, a.password);
    console.log(s.status, s.location, s.cookie, s.html.slice(0, 200));
    const list = await panel(t, '/admin/api/resources/users/actions/list', s.cookie);
    console.log(list.status, (await list.text()).slice(0, 3000));
    const u = await registerAndLogin(t);
    expect(u).toBeTruthy();
  });
});
