/**
 * Logins are lucia sessions; lucia stays inside this file. The adapter is a small one over knex so
 * that a session store can be bound to the caller's transaction: a login, a revocation and their
 * audit entries commit together.
 */
import type { Knex } from 'knex';
import { Lucia, TimeSpan, type Adapter, type DatabaseSession, type DatabaseUser } from 'lucia';
import { preparedRows, type Db } from '../shared/db.js';
import { countHitSql, limitKey, type LimitHit } from '../shared/rate-limit.js';

export interface SessionAttributes {
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  lastUsedAt: Date;
}

export interface SessionUserAttributes {
  role: 'user' | 'admin';
  disabled: boolean;
}

declare module 'lucia' {
  interface Register {
    Lucia: Lucia<SessionAttributes, SessionUserAttributes>;
    DatabaseSessionAttributes: SessionAttributes;
    DatabaseUserAttributes: SessionUserAttributes;
  }
}

/** How long a login lives without use (lucia extends it when half of it has passed). */
export const SESSION_LIFETIME = new TimeSpan(30, 'd');

interface SessionRow {
  id: string;
  user_id: string;
  expires_at: Date;
  ip: string | null;
  user_agent: string | null;
  created_at: Date;
  last_used_at: Date;
}

function toDatabaseSession(r: SessionRow): DatabaseSession {
  return {
    id: r.id,
    userId: r.user_id,
    expiresAt: new Date(r.expires_at),
    attributes: { ip: r.ip, userAgent: r.user_agent, createdAt: new Date(r.created_at), lastUsedAt: new Date(r.last_used_at) },
  };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function knexAdapter(db: Knex | Knex.Transaction): Adapter {
  return {
    async getSessionAndUser(sessionId): Promise<[DatabaseSession | null, DatabaseUser | null]> {
      if (!UUID_RE.test(sessionId)) return [null, null];
      const row = await db('auth_sessions as s')
        .join('users as u', 'u.id', 's.user_id')
        .where('s.id', sessionId)
        .first<(SessionRow & { u_role: 'user' | 'admin'; u_disabled: boolean }) | undefined>('s.*', 'u.role as u_role', 'u.disabled as u_disabled');
      if (!row) return [null, null];
      return [toDatabaseSession(row), { id: row.user_id, attributes: { role: row.u_role, disabled: row.u_disabled } }];
    },
    async getUserSessions(userId) {
      const rows = (await db('auth_sessions').where({ user_id: userId }).orderBy('created_at', 'desc')) as SessionRow[];
      return rows.map(toDatabaseSession);
    },
    async setSession(s) {
      await db('auth_sessions').insert({
        id: s.id,
        user_id: s.userId,
        expires_at: s.expiresAt,
        ip: s.attributes.ip,
        user_agent: s.attributes.userAgent,
        created_at: s.attributes.createdAt,
        last_used_at: s.attributes.lastUsedAt,
      });
    },
    async updateSessionExpiration(sessionId, expiresAt) {
      await db('auth_sessions').where({ id: sessionId }).update({ expires_at: expiresAt });
    },
    async deleteSession(sessionId) {
      if (UUID_RE.test(sessionId)) await db('auth_sessions').where({ id: sessionId }).delete();
    },
    async deleteUserSessions(userId) {
      await db('auth_sessions').where({ user_id: userId }).delete();
    },
    async deleteExpiredSessions() {
      await db('auth_sessions').where('expires_at', '<=', db.fn.now()).delete();
    },
  };
}

export interface LiveSession {
  id: string;
  userId: string;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  lastUsedAt: Date;
}

export interface ValidSession {
  session: LiveSession;
  user: { id: string; role: 'user' | 'admin'; disabled: boolean };
}

/** The session operations the service needs, bound to a connection or a transaction. */
export interface SessionStore {
  create(userId: string, id: string, attrs: SessionAttributes): Promise<LiveSession>;
  /** The live session and its user, or null when unknown, revoked or expired. */
  validate(sessionId: string): Promise<ValidSession | null>;
}

export function sessionStore(db: Knex | Knex.Transaction): SessionStore {
  const lucia = new Lucia(knexAdapter(db), {
    sessionExpiresIn: SESSION_LIFETIME,
    getSessionAttributes: (a) => a,
    getUserAttributes: (a) => a,
  });
  return {
    async create(userId, id, attrs) {
      const s = await lucia.createSession(userId, attrs, { sessionId: id });
      return { id: s.id, userId: s.userId, expiresAt: s.expiresAt, ...attrs };
    },
    async validate(sessionId) {
      const { session, user } = await lucia.validateSession(sessionId);
      if (!session || !user) return null;
      return {
        session: {
          id: session.id,
          userId: session.userId,
          expiresAt: session.expiresAt,
          ip: session.ip,
          userAgent: session.userAgent,
          createdAt: session.createdAt,
          lastUsedAt: session.lastUsedAt,
        },
        user: { id: user.id, role: user.role, disabled: user.disabled },
      };
    },
  };
}

/** The caller of an access token, as the request-path check finds it. */
export interface CheckedSession {
  user: { id: string; role: 'user' | 'admin' };
  /** The request counted against `count.key`; absent when not asked for. */
  hit?: LimitHit;
}

/** Count the request in the user's limit bucket under `prefix` (window `windowMs`) when the login is valid; `adminOnly`: only for an admin. */
export interface CountRequest {
  prefix: string;
  windowMs: number;
  adminOnly: boolean;
}

interface CheckRow {
  user_id: string;
  expires_at: Date;
  role: 'user' | 'admin';
  disabled: boolean;
  hits: number | null;
  reset_at: Date | null;
}

const SESSION_SQL = `SELECT s.user_id, s.expires_at, u.role, u.disabled FROM auth_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`;

// The request's limit counter moves in the statement that checks its login: one round trip.
// A hit is counted exactly when the check below lets the request through (same user, enabled,
// unexpired, admin where asked), as the limiter after authentication counted it before.
const SESSION_AND_HIT_SQL = `WITH s AS (${SESSION_SQL}),
  hit AS (${countHitSql('$3', '$4', `FROM s WHERE s.user_id = $2 AND NOT s.disabled AND s.expires_at > now() AND (NOT $5::boolean OR s.role = 'admin')`)})
  SELECT s.*, hit.hits, hit.reset_at FROM s LEFT JOIN hit ON true`;

/**
 * The access-token check of every authenticated request, in one prepared statement: the login
 * `sessionId` of user `userId` and its user's role and state — read at every request, never
 * cached, so a revoked login or a disabled user is refused at once on every instance — and, with
 * `count`, the request's hit on the user's limit counter. Null when the login is unknown, another user's,
 * expired (then deleted) or its user disabled. Lucia's rule for a login in use: past half its
 * lifetime it is extended to a full one.
 */
export async function checkSession(db: Db, sessionId: string, userId: string, count?: CountRequest): Promise<CheckedSession | null> {
  if (!UUID_RE.test(sessionId) || !UUID_RE.test(userId)) return null;
  const rows = count
    ? await preparedRows<CheckRow>(db, SESSION_AND_HIT_SQL, [sessionId, userId, limitKey(count.prefix, userId), count.windowMs, count.adminOnly])
    : await preparedRows<CheckRow>(db, SESSION_SQL, [sessionId]);
  const row = rows[0];
  if (!row || row.user_id !== userId || row.disabled) return null;
  const expiresAt = new Date(row.expires_at).getTime();
  const now = Date.now();
  if (expiresAt <= now) {
    await db('auth_sessions').where({ id: sessionId }).delete();
    return null;
  }
  if (now >= expiresAt - SESSION_LIFETIME.milliseconds() / 2) {
    await db('auth_sessions').where({ id: sessionId }).update({ expires_at: new Date(now + SESSION_LIFETIME.milliseconds()) });
  }
  const user = { id: row.user_id, role: row.role };
  return row.hits === null || row.reset_at === null ? { user } : { user, hit: { totalHits: Number(row.hits), resetTime: new Date(row.reset_at) } };
}
