/**
 * The AdminJS instance and its router. Imported by index.ts only after AdminJS's environment
 * (bundle directory, skip its own bundling) is set: AdminJS reads it when its modules load.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import AdminJSExpress from '@adminjs/express';
import AdminJS, { ComponentLoader, ForbiddenError as AdminForbidden, NotFoundError as AdminNotFound, ValidationError as AdminValidation } from 'adminjs';
import { componentsBundler, generateUserComponentEntry, ADMIN_JS_TMP_DIR } from 'adminjs/bundler';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Router } from 'express';
import type { VerifyResult } from '../server/audit/index.js';
import { requestFacts } from '../server/shared/write-context.js';
import { AppError, ForbiddenError, NotFoundError, sendProblem, ValidationError } from '../server/shared/errors.js';
import { countEventsSince } from '../server/shared/outbox.js';
import { toAdminAction, USER_ACTIONS } from './admin.actions.js';
import { COMPONENT_FILES, componentPath } from './admin.bundle-key.js';
import { ADMIN_COOKIE, authenticate, cookieSecret, purgeExpiredSessions, sameOriginGuard, sessionGuard, sessionOptions } from './admin.auth.js';
import session from 'express-session';
import { auditLogsResource, usersResource } from './admin.resources.js';
import type { AdminDeps } from './index.js';

export const ROOT = '/admin';

/** How long the dashboard reuses a chain verification (it walks the whole log). */
const CHAIN_CACHE_MS = 60_000;

/** What each resource's `/api` answers to; everything else under `/admin/api` is refused (403) before AdminJS sees it. */
const API_ALLOWED: { method: 'GET' | 'POST'; re: RegExp }[] = [
  { method: 'GET', re: /^\/api\/dashboard$/ },
  { method: 'GET', re: /^\/api\/resources\/(users|audit_logs)\/actions\/(list|search)(\/[^/]*)?$/ },
  { method: 'GET', re: /^\/api\/resources\/audit_logs\/actions\/verifyChain$/ },
  { method: 'GET', re: /^\/api\/resources\/(users|audit_logs)\/records\/[^/]+\/show$/ },
  ...USER_ACTIONS.flatMap((a) => (['GET', 'POST'] as const).map((method) => ({ method, re: new RegExp(`^/api/resources/users/records/[^/]+/${a.name}$`) }))),
];

/** Read-only guard for the panel's JSON API: audit logs can never be created, edited or deleted, not even by calling the API directly. */
const apiAllowlist: RequestHandler = (req, res, next) => {
  if (!req.path.startsWith('/api/')) return next();
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (API_ALLOWED.some((a) => a.method === method && a.re.test(req.path))) return next();
  sendProblem(res, new ForbiddenError('The admin panel does not allow this action.', 'action_not_allowed'));
};

/**
 * The app parses JSON bodies before any router: hand them to AdminJS as express-formidable would
 * (formidable would otherwise wait for a body stream that was already read).
 */
const jsonBodyForAdminJS: RequestHandler = (req, _res, next) => {
  if (req.is('application/json')) Object.assign(req, { fields: (req.body as object) ?? {}, files: {}, express_formidable: { parsed: true } });
  next();
};

/** AdminJS's own errors as problem+json (not a 500); app errors as they are. */
const adminErrors: ErrorRequestHandler = (err, _req, res, next) => {
  if (res.headersSent) return next(err);
  if (err instanceof AppError) return sendProblem(res, err);
  if (err instanceof AdminForbidden) return sendProblem(res, new ForbiddenError('The admin panel does not allow this action.', 'action_not_allowed'));
  if (err instanceof AdminNotFound) return sendProblem(res, new NotFoundError());
  if (err instanceof AdminValidation) return sendProblem(res, new ValidationError('The request is not valid.'));
  next(err);
};

/**
 * Builds the components bundle once, at start, into the directory index.ts named by the bundle's
 * content hash; when it is already there (a restart of the same code), nothing is built. No
 * request ever bundles.
 */
async function buildComponentsOnce(admin: AdminJS): Promise<void> {
  const output = path.join(ADMIN_JS_TMP_DIR, 'bundle.js');
  const built = await access(output).then(
    () => true,
    () => false,
  );
  if (built) return;
  await componentsBundler.createEntry({ content: generateUserComponentEntry(admin, ADMIN_JS_TMP_DIR) });
  await componentsBundler.build();
}

interface CachedChain extends VerifyResult {
  verifiedAt: string;
}

export async function buildPanel(deps: AdminDeps): Promise<Router> {
  const { config, db, clock, audit, auth, logger, erase } = deps;
  const componentLoader = new ComponentLoader();
  const Components = {
    Dashboard: componentLoader.add('Dashboard', componentPath(COMPONENT_FILES.Dashboard)),
    ConfirmAction: componentLoader.add('ConfirmAction', componentPath(COMPONENT_FILES.ConfirmAction)),
    ChainStatus: componentLoader.add('ChainStatus', componentPath(COMPONENT_FILES.ChainStatus)),
  };
  componentLoader.override('Login', componentPath(COMPONENT_FILES.Login));

  let chainCache: { at: number; value: CachedChain } | null = null;
  const verifyChain = async (fresh: boolean): Promise<CachedChain> => {
    const now = clock.now().getTime();
    if (!fresh && chainCache && now - chainCache.at < CHAIN_CACHE_MS) return chainCache.value;
    const value = { ...(await audit.verify(db)), verifiedAt: clock.now().toISOString() };
    chainCache = { at: now, value };
    return value;
  };

  const actionDeps = { db, clock, audit, auth, erase };
  const userActions = Object.fromEntries(USER_ACTIONS.map((a) => [a.name, { ...toAdminAction(a, actionDeps), component: Components.ConfirmAction }]));
  const noWrites = {
    new: { isAccessible: false, isVisible: false },
    edit: { isAccessible: false, isVisible: false },
    delete: { isAccessible: false, isVisible: false },
    bulkDelete: { isAccessible: false, isVisible: false },
  };

  const admin = new AdminJS({
    rootPath: ROOT,
    loginPath: `${ROOT}/login`,
    logoutPath: `${ROOT}/logout`,
    componentLoader,
    branding: { companyName: 'Numina admin', withMadeWithLove: false, logo: false },
    settings: { defaultPerPage: 20 },
    locale: {
      language: 'en',
      availableLanguages: ['en'],
      translations: {
        en: {
          labels: { users: 'Users', audit_logs: 'Audit logs' },
          actions: { ...Object.fromEntries(USER_ACTIONS.map((a) => [a.name, a.label])), verifyChain: 'Verify chain' },
          properties: {
            two_factor: '2FA on',
            last_login_at: 'Last login',
            created_at: 'Created',
            user_id: 'User',
            actor_id: 'Actor',
            entity_type: 'Entity type',
            entity_id: 'Entity id',
            redacted_at: 'Redacted (GDPR)',
            erased_at: 'Erased (GDPR)',
            request_id: 'Request id',
            user_agent: 'User agent',
          },
        },
      },
    },
    dashboard: {
      component: Components.Dashboard,
      handler: async () => ({
        usersTotal: Number(((await db('users').count({ n: '*' }).first()) as { n: string }).n),
        activeLogins: await auth.tokens.countActiveLogins(),
        eventsLastHour: await countEventsSince(db, new Date(clock.now().getTime() - 3_600_000)),
        chain: await verifyChain(false),
      }),
    },
    resources: [
      {
        resource: usersResource(db),
        options: {
          id: 'users',
          navigation: { name: null, icon: 'Users' },
          titleProperty: 'email',
          sort: { sortBy: 'created_at', direction: 'desc' },
          listProperties: ['email', 'name', 'role', 'disabled', 'two_factor', 'created_at', 'last_login_at'],
          showProperties: ['id', 'email', 'name', 'role', 'disabled', 'two_factor', 'created_at', 'last_login_at', 'erased_at'],
          filterProperties: ['email', 'name', 'role', 'disabled', 'two_factor', 'created_at'],
          properties: { id: { isVisible: { list: false, show: true, filter: false, edit: false } }, last_login_at: { isSortable: false } },
          actions: { ...noWrites, ...userActions },
        },
      },
      {
        resource: auditLogsResource(db),
        options: {
          id: 'audit_logs',
          navigation: { name: null, icon: 'FileText' },
          titleProperty: 'action',
          sort: { sortBy: 'seq', direction: 'desc' },
          listProperties: ['seq', 'at', 'action', 'user_id', 'actor_id', 'entity_type', 'entity_id'],
          filterProperties: ['user_id', 'actor_id', 'action', 'entity_type', 'at'],
          showProperties: ['seq', 'id', 'at', 'action', 'user_id', 'actor_id', 'entity_type', 'entity_id', 'before', 'after', 'ip', 'user_agent', 'request_id', 'redacted_at', 'hash'],
          properties: {
            before: { type: 'textarea', isSortable: false },
            after: { type: 'textarea', isSortable: false },
            user_agent: { type: 'textarea', isSortable: false },
            id: { isSortable: false },
            request_id: { isSortable: false },
            hash: { isSortable: false },
          },
          actions: {
            ...noWrites,
            verifyChain: {
              actionType: 'resource',
              label: 'Verify chain',
              icon: 'CheckSquare',
              component: Components.ChainStatus,
              // Always a fresh walk: this page is where an admin goes to check.
              handler: async () => ({ chain: await verifyChain(true) }),
            },
          },
        },
      },
    ],
  });

  await buildComponentsOnce(admin);

  const router = express.Router();
  // Request facts for audit entries: AdminJS hands action handlers a copy of the request without `req.ip`.
  router.use((req, res, next) => {
    res.locals.adminRc = requestFacts(req);
    next();
  });
  const sessions = sessionOptions(config, db);
  router.use(session(sessions));
  router.use(sameOriginGuard(config));
  router.use(sessionGuard(db, clock, logger));
  router.use(apiAllowlist);
  router.use(jsonBodyForAdminJS);
  // Sign-out is audited like the sign-in.
  router.get('/logout', (req: Request, _res, next) => {
    const a = req.session?.adminUser;
    if (!a) return next();
    db.transaction((trx) => audit.record(trx, { action: 'admin.logout', actorId: a.id, entityType: 'user', entityId: a.id, ...requestFacts(req) }))
      .then(() => next())
      .catch(next);
  });
  AdminJSExpress.buildAuthenticatedRouter(
    admin,
    { authenticate: authenticate(auth), cookieName: ADMIN_COOKIE, cookiePassword: cookieSecret(config) },
    router,
    // The same options: AdminJS adds its own session middleware, which finds the session above and steps aside.
    sessions,
    { maxFileSize: 0, maxFieldsSize: 64 * 1024, maxFields: 50, multiples: false },
  );
  router.use(adminErrors);
  deps.jobs.schedule('admin-sessions-purge', 15 * 60_000, () => purgeExpiredSessions(db));
  return router;
}
