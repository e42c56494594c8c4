/**
 * Who gets into the panel, and for how long: sign-in through the auth service (admins only),
 * sessions in PostgreSQL, every request re-checked against the database, an idle limit, and a
 * same-origin check on every state-changing request.
 */
import { createHmac } from 'node:crypto';
import connectPgSimple from 'connect-pg-simple';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import type { Logger } from 'pino';
import { requestFacts } from '../server/shared/write-context.js';
import type { AuthServices } from '../server/auth/index.js';
import type { Clock } from '../server/shared/clock.js';
import type { Config } from '../server/shared/config.js';
import type { Db } from '../server/shared/db.js';
import { AppError, ForbiddenError, RateLimitedError, sendProblem, UnauthorizedError } from '../server/shared/errors.js';
import { User } from '../server/users/index.js';

/** A panel session ends after this long without a request. */
export const ADMIN_IDLE_MS = 30 * 60 * 1000;
export const ADMIN_COOKIE = 'numina_admin';

/** What the session holds: AdminJS's `adminUser` plus when it was last used (by the app's clock). */
export interface PanelAdmin {
  id: string;
  email: string;
  title: string;
  role: 'admin';
}
declare module 'express-session' {
  interface SessionData {
    adminUser?: PanelAdmin;
    lastSeenAt?: number;
  }
}

/** Every sign-in refusal reads the same: it must not tell whether the email exists, is an admin or uses 2FA. */
export const SIGN_IN_REFUSED = 'The email, password or code is not correct, or this account may not use the admin panel.';
export const SIGN_IN_LIMITED = 'Too many failed sign-ins for this email. Try again in 15 minutes.';

/**
 * connect-pg-simple over the app's knex pool (its `pgPromise` option needs only `any(query, params)`):
 * no second pool to size and close. Its fixed queries use `$n` placeholders, rewritten to knex's `?`.
 */
function knexAsPgPromise(db: Db) {
  return {
    async any(query: string, params: unknown[] = []): Promise<unknown[]> {
      const bindings: unknown[] = [];
      const sql = query.replace(/\$(\d+)/g, (_m, n: string) => {
        bindings.push(params[Number(n) - 1]);
        return '?';
      });
      const result = await db.raw<{ rows: unknown[] }>(sql, bindings as never[]);
      return result.rows;
    },
  };
}

/** The session cookie secret: derived from JWT_SECRET, so no new secret to configure, yet never equal to it. */
export function cookieSecret(config: Pick<Config, 'jwtSecret'>): string {
  return createHmac('sha256', config.jwtSecret).update('numina admin panel session cookie v1').digest('hex');
}

/** express-session's options for the panel: one store (PostgreSQL), so no MemoryStore is ever made. */
export function sessionOptions(config: Config, db: Db): session.SessionOptions {
  const PgStore = connectPgSimple(session);
  // Expired rows are purged by the `admin-sessions-purge` job, not by a timer of the store's own.
  const store = new PgStore({ pgPromise: knexAsPgPromise(db), tableName: 'admin_sessions', pruneSessionInterval: false });
  return {
    name: ADMIN_COOKIE,
    secret: cookieSecret(config),
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: {
      path: '/admin',
      httpOnly: true,
      sameSite: 'strict',
      secure: config.publicUrl.startsWith('https:'),
      maxAge: ADMIN_IDLE_MS,
    },
  };
}

export async function purgeExpiredSessions(db: Db): Promise<number> {
  return db('admin_sessions').where('expire', '<', db.fn.now()).delete();
}

/**
 * AdminJS's `authenticate`: the auth service's own checks (password, disabled, second factor,
 * `role = admin`), failures audited and counted in the same per-email bucket as `POST /auth/login`.
 * Any refusal is one message. On success the session id is renewed (no fixation).
 */
export function authenticate(auth: AuthServices) {
  return async (email: unknown, password: unknown, context?: { req: Request; res: Response }): Promise<PanelAdmin | null> => {
    const req = context?.req;
    if (!req) return null;
    const fields = (req as Request & { fields?: Record<string, unknown> }).fields ?? {};
    if (typeof email !== 'string' || typeof password !== 'string' || !email.trim() || !password || email.length > 254 || password.length > 1024) {
      throw new Error(SIGN_IN_REFUSED);
    }
    const code = typeof fields.code === 'string' ? fields.code.trim() : '';
    const second = !code ? {} : /^\d{6}$/.test(code) ? { totp: code } : { recoveryCode: code.slice(0, 64) };
    try {
      const profile = await auth.tokens.verifyCredentials({ email, password, ...second }, requestFacts(req), { via: 'admin', role: 'admin' });
      await new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err as Error) : resolve())));
      return { id: profile.id, email: profile.email, title: profile.name ?? profile.email, role: 'admin' };
    } catch (err) {
      // The failure limit is the API login's (counted by verifyCredentials itself).
      if (err instanceof RateLimitedError) throw new Error(SIGN_IN_LIMITED, { cause: err });
      if (!(err instanceof AppError)) throw err;
      // The reason is in the audit log; the form gets the one message.
      throw new Error(SIGN_IN_REFUSED, { cause: err });
    }
  };
}

/** Paths of the panel that need no session: the sign-in page and AdminJS's static bundles. */
const isPublic = (path: string) => path === '/login' || path.startsWith('/frontend/assets/');

/**
 * Runs before AdminJS on every panel request: the session's admin must still exist, be enabled and
 * be an admin (read from the database now, like API tokens), and the session must not be idle for
 * more than 30 minutes (by the app's clock). Otherwise the session ends: pages go to the sign-in
 * page, `/api/*` answers 401 problem+json (AdminJS itself would redirect).
 */
export function sessionGuard(db: Db, clock: Clock, logger: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    void (async () => {
      const admin = req.session?.adminUser;
      const now = clock.now().getTime();
      if (admin) {
        const idle = req.session.lastSeenAt !== undefined && now - req.session.lastSeenAt > ADMIN_IDLE_MS;
        const row = idle ? undefined : await User.query(db).findById(admin.id).select('role', 'disabled');
        if (idle || !row || row.role !== 'admin' || row.disabled) {
          logger.info({ adminId: admin.id, reason: idle ? 'idle' : 'no longer an admin' }, 'admin panel session ended');
          await new Promise<void>((resolve) => req.session.destroy(() => resolve()));
          res.clearCookie(ADMIN_COOKIE, { path: '/admin' });
          return refuse(req, res, next);
        }
        req.session.lastSeenAt = now;
        return next();
      }
      if (isPublic(req.path) || req.path === '/logout') return next();
      return refuse(req, res, next);
    })().catch(next);
  };
}

function refuse(req: Request, res: Response, next: NextFunction): void {
  if (isPublic(req.path)) return next();
  if (req.path.startsWith('/api/')) return sendProblem(res, new UnauthorizedError('Sign in to the admin panel first.'));
  res.redirect(302, '/admin/login');
}

/**
 * CSRF: the session cookie is `SameSite=Strict`, and on top every request that can change state
 * (anything but GET/HEAD/OPTIONS) must come from the panel's own origin, by `Origin` or, when a
 * browser sends none, `Referer` (the panel's Referrer-Policy is `same-origin`, so both are sent).
 */
export function sameOriginGuard(config: Pick<Config, 'publicUrl'>): RequestHandler {
  const configured = new URL(config.publicUrl).origin;
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
    const own = new Set([configured, `${req.protocol}://${req.get('host') ?? ''}`]);
    const origin = req.get('origin');
    let source: string | null = null;
    if (origin && origin !== 'null') source = origin;
    else {
      const referer = req.get('referer');
      if (referer) {
        try {
          source = new URL(referer).origin;
        } catch {
          source = null;
        }
      }
    }
    if (!source || !own.has(source)) return sendProblem(res, new ForbiddenError('Cross-site request refused: the panel accepts changes only from its own pages.', 'cross_site'));
    next();
  };
}
