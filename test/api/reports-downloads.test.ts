import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { useTestApp, useUsers } from '../helpers/app.js';
import { expectProblem } from '../helpers/ledger.js';

/**
 * A report's CSV is a streamed download: it takes one of the caller's download slots, shared with
 * the transaction export and the data export (DOWNLOADS_PER_USER), so one user's downloads can
 * never hold more than their share. The JSON form is an ordinary request and takes none.
 */
const t = useTestApp({ DOWNLOADS_PER_USER: '1' });
const [u, other] = useUsers(t, 2);

describe('report CSV downloads', () => {
  it('answer 429 while the caller’s download slots are taken, and work again once one is free', async () => {
    // Another download of this user holds the only slot (a response that has not closed yet).
    const elsewhere = new EventEmitter() as unknown as Response;
    const release = t.app.ctx.downloads.acquire(u.id, elsewhere);
    try {
      for (const path of ['/reports/monthly', '/reports/categories', '/reports/net-worth']) {
        await expectProblem(await t.api(`${path}?format=csv`, { token: u.accessToken }), 429, 'rate_limited');
        expect((await t.api(path, { token: u.accessToken })).status).toBe(200);
      }
      // Another user's slots are their own.
      const theirs = await t.api('/reports/monthly?format=csv', { token: other.accessToken });
      expect(theirs.status).toBe(200);
      await theirs.text();
    } finally {
      release();
    }
    const csv = await t.api('/reports/monthly?format=csv', { token: u.accessToken });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    await csv.text();
  });
});
