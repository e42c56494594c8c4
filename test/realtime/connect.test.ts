import { systemWrite } from '../../server/shared/write-context.js';
import { useTestApp } from '../helpers/app.js';
import { registerAndLogin } from '../helpers/users.js';
import { io as ioClient } from 'socket.io-client';
import { closeAllSockets, connect, connectError, connectLive, publish, type WireEvent } from '../helpers/sockets.js';

const t = useTestApp();
afterEach(() => {
  closeAllSockets();
  t.clock.set(new Date());
});

const MINUTE = 60_000;

describe('connecting to the realtime endpoint', () => {
  it('refuses a connection without a token with connect_error "unauthorized"', async () => {
    const err = await connectError(t.url);
    expect(err.message).toBe('unauthorized');
    expect(err.data).toEqual({ code: 'unauthorized' });
  });

  it('refuses a connection with a malformed or forged token', async () => {
    expect((await connectError(t.url, { token: 'not-a-jwt' })).message).toBe('unauthorized');
    const user = await registerAndLogin(t);
    const [h, p] = user.accessToken.split('.');
    expect((await connectError(t.url, { token: `${h}.${p}.forged-signature` })).message).toBe('unauthorized');
    expect((await connectError(t.url, { token: 12345 })).message).toBe('unauthorized');
  });

  it('refuses a connection with an expired access token', async () => {
    const user = await registerAndLogin(t);
    t.clock.advance(16 * MINUTE);
    expect((await connectError(t.url, { token: user.accessToken })).message).toBe('unauthorized');
  });

  it('refuses the access token of a login that was logged out', async () => {
    const user = await registerAndLogin(t);
    const res = await t.api('/auth/logout', { method: 'POST', token: user.accessToken, json: { refreshToken: user.refreshToken } });
    expect(res.status).toBe(204);
    expect((await connectError(t.url, { token: user.accessToken })).message).toBe('unauthorized');
  });

  it('accepts a valid access token and delivers the user its events', async () => {
    const user = await registerAndLogin(t);
    const socket = await connectLive(t, user.accessToken);
    await publish(t, user.id, 'goal.progress', { goalId: 'g1', currentAmount: '10.00', progress: '0.1', achieved: false });
    const [event] = await socket.waitForEvents(1);
    expect(event).toEqual({
      seq: 1,
      type: 'goal.progress',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: { goalId: 'g1', currentAmount: '10.00', progress: '0.1', achieved: false },
    });
  });
});

describe('revoked logins', () => {
  it('disconnects the sockets of a login when it logs out, and keeps the user\'s other logins connected', async () => {
    const user = await registerAndLogin(t);
    const other = await t.api('/auth/login', { method: 'POST', json: { email: user.email, password: user.password } });
    const otherTokens = (await other.json()) as { accessToken: string };
    const loggingOut = await connectLive(t, user.accessToken);
    const staying = await connectLive(t, otherTokens.accessToken);

    const res = await t.api('/auth/logout', { method: 'POST', token: user.accessToken, json: { refreshToken: user.refreshToken } });
    expect(res.status).toBe(204);
    expect(await loggingOut.disconnected).toEqual({ reason: 'io server disconnect', ended: 'session_revoked' });

    await publish(t, user.id, 'balance.updated', { accountId: 'a', balance: '1.00', currency: 'USD' });
    const events = await staying.waitForEvents(1);
    expect(events.map((e) => e.type)).toEqual(['balance.updated']);
    expect(staying.socket.connected).toBe(true);
  });

  it('disconnects a login\'s sockets when that session is deleted from another login', async () => {
    const user = await registerAndLogin(t);
    const second = (await (await t.api('/auth/login', { method: 'POST', json: { email: user.email, password: user.password } })).json()) as {
      accessToken: string;
    };
    const victim = await connectLive(t, second.accessToken);
    const sessions = (await (await t.api('/auth/sessions', { token: user.accessToken })).json()) as { id: string; current: boolean }[] | { data: { id: string; current: boolean }[] };
    const list = Array.isArray(sessions) ? sessions : sessions.data;
    const target = list.find((s) => !s.current);
    expect(target).toBeDefined();
    const del = await t.api(`/auth/sessions/${target!.id}`, { method: 'DELETE', token: user.accessToken });
    expect(del.status).toBe(204);
    expect((await victim.disconnected).ended).toBe('session_revoked');
  });

  it('disconnects the sockets of the user\'s other logins when the password is changed', async () => {
    const user = await registerAndLogin(t);
    const second = (await (await t.api('/auth/login', { method: 'POST', json: { email: user.email, password: user.password } })).json()) as {
      accessToken: string;
    };
    const current = await connectLive(t, user.accessToken);
    const elsewhere = await connectLive(t, second.accessToken);
    const res = await t.api('/users/me/password', {
      method: 'POST',
      token: user.accessToken,
      json: { currentPassword: user.password, newPassword: `${user.password}-Changed!` },
    });
    expect(res.status).toBe(204);
    expect((await elsewhere.disconnected).ended).toBe('session_revoked');
    await publish(t, user.id, 'balance.updated', { accountId: 'a', balance: '3.00', currency: 'USD' });
    expect((await current.waitForEvents(1)).map((e) => e.type)).toEqual(['balance.updated']);
    expect(current.socket.connected).toBe(true);
  });

  it('disconnects every socket of a user who is disabled', async () => {
    const user = await registerAndLogin(t);
    const socket = await connectLive(t, user.accessToken);
    await t.app.services!.auth.tokens.setDisabled(systemWrite(user.id), true);
    expect(await socket.disconnected).toEqual({ reason: 'io server disconnect', ended: 'session_revoked' });
    expect((await connectError(t.url, { token: user.accessToken })).message).toBe('unauthorized');
  });

  it('disconnects every socket of a user who is erased', async () => {
    const user = await registerAndLogin(t);
    const tab1 = await connectLive(t, user.accessToken);
    const tab2 = await connectLive(t, user.accessToken);
    // What an erasure does: the userErased hooks, then the row, in one transaction.
    await t.db.transaction(async (trx) => {
      for (const hook of t.app.ctx.hooks.userErased) await hook(trx, user.id);
      await trx('users').where({ id: user.id }).delete();
    });
    expect((await tab1.disconnected).ended).toBe('session_revoked');
    expect((await tab2.disconnected).ended).toBe('session_revoked');
  });
});

describe('token expiry on an open socket', () => {
  it('disconnects a socket when its access token expires, telling it why', async () => {
    const user = await registerAndLogin(t);
    const socket = await connectLive(t, user.accessToken);
    t.clock.advance(16 * MINUTE);
    expect(await socket.disconnected).toEqual({ reason: 'io server disconnect', ended: 'token_expired' });
  });

  it('keeps a socket past its first token\'s expiry after an `auth` event with a fresh token', async () => {
    const user = await registerAndLogin(t);
    const socket = await connectLive(t, user.accessToken);
    t.clock.advance(10 * MINUTE);
    const refreshed = await t.api('/auth/refresh', { method: 'POST', json: { refreshToken: user.refreshToken } });
    expect(refreshed.status).toBe(200);
    const { accessToken } = (await refreshed.json()) as { accessToken: string };
    expect(await socket.socket.emitWithAck('auth', { token: accessToken })).toEqual({ ok: true });

    t.clock.advance(6 * MINUTE); // the first token has expired, the fresh one has not
    await publish(t, user.id, 'balance.updated', { accountId: 'a', balance: '2.00', currency: 'USD' });
    expect((await socket.waitForEvents(1)).map((e) => e.type)).toEqual(['balance.updated']);
    expect(socket.socket.connected).toBe(true);

    t.clock.advance(10 * MINUTE);
    expect((await socket.disconnected).ended).toBe('token_expired');
  });

  it('answers `auth` with another user\'s token as unauthorized and keeps the socket on its own user', async () => {
    const alice = await registerAndLogin(t);
    const bob = await registerAndLogin(t);
    const socket = await connectLive(t, alice.accessToken);
    expect(await socket.socket.emitWithAck('auth', { token: bob.accessToken })).toEqual({ ok: false, code: 'unauthorized' });
    expect(await socket.socket.emitWithAck('auth', { token: 'garbage' })).toEqual({ ok: false, code: 'unauthorized' });
    expect(await socket.socket.emitWithAck('auth', {})).toEqual({ ok: false, code: 'validation_failed' });
    await publish(t, bob.id, 'balance.updated', { accountId: 'b', balance: '9.00', currency: 'USD' });
    await publish(t, alice.id, 'balance.updated', { accountId: 'a', balance: '1.00', currency: 'USD' });
    const events = await socket.waitForEvents(1);
    expect(events.map((e) => e.data.accountId)).toEqual(['a']);
  });
});

it('a socket that never resumes still receives live events', async () => {
  const user = await registerAndLogin(t);
  const socket = await connect(t, user.accessToken);
  await publish(t, user.id, 'transaction.deleted', { transaction: { id: 'x' } });
  const events = await socket.waitForEvents(1);
  expect(events.map((e) => e.seq)).toEqual([1]);
});

it('serves clients that can only use HTTP long-polling', async () => {
  const user = await registerAndLogin(t);
  const socket = ioClient(t.url, { auth: { token: user.accessToken }, transports: ['polling'], reconnection: false, forceNew: true });
  try {
    const got = new Promise<WireEvent>((resolve) => socket.on('budget.alert', resolve));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    expect(socket.io.engine.transport.name).toBe('polling');
    expect(await socket.emitWithAck('resume', { sinceSeq: 0 })).toEqual({ ok: true, lastSeq: 0, gap: false });
    const data = { budgetId: 'b', categoryId: 'c', period: '2026-11', spent: '80.00', amount: '100.00', threshold: '0.8' };
    await publish(t, user.id, 'budget.alert', data);
    expect(await got).toMatchObject({ seq: 1, type: 'budget.alert', data });
  } finally {
    socket.close();
  }
});
