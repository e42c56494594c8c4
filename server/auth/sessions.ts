/**
 * Logins are lucia sessions; lucia stays inside this file. The adapter is a small one over knex so
 * that a session store can be bound to the caller's transaction: a login, a revocation and their
 * audit entries commit together.
 */
import type { Knex } from 'knex';
import { Lucia, TimeSpan, type Adapter, type DatabaseSession, type DatabaseUser } from 'lucia';

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
