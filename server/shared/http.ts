import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { z, type ZodType } from 'zod';
import { isDateString } from './cursor.js';
import { ForbiddenError, ValidationError, zodToFieldErrors } from './errors.js';
import { idempotencyHeaders, idempotencyKeyOf } from './idempotency.js';
import { requestFacts, userWrite, type AuditContext, type WriteContext } from './write-context.js';

/** Who may call a route. Every route must say; a route without it fails at start-up. */
export type Access = 'public' | 'user' | 'admin';
export const ACCESS_LEVELS: readonly Access[] = ['public', 'user', 'admin'];

/** The caller of an authenticated route, as the auth feature establishes it. */
export interface AuthUser {
  id: string;
  role: 'user' | 'admin';
  sessionId: string;
}

/** What the registry asks of an authentication besides the caller. */
export interface AuthenticateOptions {
  /**
   * Count the request against the caller's per-user limit (the authenticator that counts it does so
   * in the session check's own round trip, and answers 429 past the limit).
   */
  countRequest: boolean;
  /** The route is for admins: a request by anyone else is refused (403), not counted. */
  adminOnly: boolean;
}

/** Resolves the bearer credentials of a request to a user, or throws UnauthorizedError (or RateLimitedError when it counts). */
export type Authenticator = (req: Request, opts?: AuthenticateOptions) => Promise<AuthUser>;

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ResponseSpec {
  description: string;
  schema?: ZodType;
  /** Content type of the body; JSON unless said. */
  contentType?: string;
  /** Further representations of the same response (e.g. `?format=json` of a CSV download). */
  alternatives?: { contentType: string; schema: ZodType }[];
}

interface BaseInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The request's facts for audit entries (every route, public ones too). */
  facts: AuditContext;
  /** The validated `Idempotency-Key` header on routes declared `idempotent`. */
  idempotencyKey: string | undefined;
  req: Request;
  res: Response;
}

interface CallerInput {
  /** The authenticated caller. */
  user: AuthUser;
  /** The caller writing their own data from this request. */
  write: WriteContext;
}

/** What a handler receives: the caller and its WriteContext exist exactly on `user`/`admin` routes. */
export type RouteInput<P, Q, B, A extends Access = Access> = BaseInput<P, Q, B> & (A extends 'public' ? Partial<Record<keyof CallerInput, never>> : CallerInput);

export interface RouteSpec<P extends z.ZodObject, Q extends z.ZodObject, B extends ZodType, A extends Access = Access> {
  method: Method;
  /** Express path, e.g. `/accounts/:id`. */
  path: string;
  access: A;
  summary: string;
  /** The feature's tag (e.g. `Accounts`): groups the operation in /openapi.json and /docs. At least one. */
  tags: string[];
  /** Stable name of the operation for client generators; derived from method and path when absent. */
  operationId?: string;
  params?: P;
  query?: Q;
  body?: B;
  /** Headers documented for the route. */
  headers?: z.ZodObject;
  /**
   * The route accepts an `Idempotency-Key` header: the registry documents and validates it and
   * hands it to the handler, whose service claims it inside its own transaction (shared/idempotency).
   */
  idempotent?: boolean;
  responses: Record<number, ResponseSpec>;
  /**
   * Every response of the registry is `Cache-Control: no-store` (tokens, 2FA secrets, recovery codes
   * and financial JSON must never sit in a browser or proxy cache, RFC 6749 §5.1), unless the route
   * serves only public, user-independent content and says `cacheable: true` (the API document).
   */
  cacheable?: boolean;
  /** Operational endpoints (health, readiness, metrics) are polled by machines and not limited. */
  noRateLimit?: boolean;
  /** Extra middleware run after authentication and before validation (e.g. a stricter limiter). */
  middleware?: RequestHandler[];
  /**
   * Handles a validated request. A returned value is sent as JSON with `status`; undefined sends
   * `status` with no body; a `reply(status, body)` sends another declared status — unless the
   * handler streamed the response itself (downloads only).
   */
  handler: (input: RouteInput<z.output<P>, z.output<Q>, z.output<B>, A>) => unknown; // a value or a promise of one
  /** The success status: 200 by default, 204 for handlers that return nothing. */
  status?: number;
}

/** A handler's answer with a status other than the route's success status (declared in its `responses`). */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/** Answers `status` with a JSON `body`, e.g. readiness's 503 `{ status: 'unavailable' }` (errors are thrown AppErrors instead). */
export const reply = (status: number, body: unknown): Reply => new Reply(status, body);

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

/** A registered route as the OpenAPI completeness test sees it. */
export interface RegisteredRoute {
  method: Method;
  path: string;
  access: Access;
  /** Responses may be cached (otherwise every response is `Cache-Control: no-store`). */
  cacheable: boolean;
  /** The route declares a body schema. */
  hasBody: boolean;
  operationId: string;
  tags: string[];
}

export interface RouteRegistry {
  add<P extends z.ZodObject = z.ZodObject, Q extends z.ZodObject = z.ZodObject, B extends ZodType = z.ZodUnknown, A extends Access = Access>(spec: RouteSpec<P, Q, B, A>): void;
  router: Router;
  openapi: OpenAPIRegistry;
  routes: RegisteredRoute[];
}

export interface RegistryDeps {
  authenticate: Authenticator;
  /** Limiter for unauthenticated routes (per client address). */
  publicLimiter?: RequestHandler;
  /** Limiter for authenticated routes (per user); runs after authentication. */
  userLimiter?: RequestHandler;
  /**
   * The authenticator counts the per-user limit itself (`countRequest`), in the round trip that
   * checks the session: then `userLimiter` is not used.
   */
  authenticatorCounts?: boolean;
}

function parsePart(schema: ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return value;
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new ValidationError('The request is not valid.', zodToFieldErrors(r.error, where));
  return r.data;
}

const COMMON_ERRORS: Record<number, string> = {
  400: 'Invalid input',
  401: 'Missing or invalid credentials',
  403: 'Known user without the right role',
  404: 'Not found, or not yours',
  413: 'The body is over 1 MB',
  429: 'Rate limited (see Retry-After)',
};

/**
 * The one way routes are registered: validation, access control and the OpenAPI document all come
 * from the same declaration, so the document cannot drift from what the server does.
 */
export function createRouteRegistry(deps: RegistryDeps): RouteRegistry {
  const router = express.Router();
  const openapi = new OpenAPIRegistry();
  const routes: RegisteredRoute[] = [];
  openapi.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });

  function add<P extends z.ZodObject, Q extends z.ZodObject, B extends ZodType, A extends Access>(spec: RouteSpec<P, Q, B, A>): void {
    if (!ACCESS_LEVELS.includes(spec.access)) {
      throw new Error(`route ${spec.method.toUpperCase()} ${spec.path} does not declare who may call it (public, user or admin)`);
    }
    if (!spec.tags?.length) throw new Error(`route ${spec.method.toUpperCase()} ${spec.path} declares no tag (its feature, e.g. "Accounts")`);
    const operationId = spec.operationId ?? operationIdOf(spec.method, spec.path);
    if (routes.some((r) => r.operationId === operationId)) throw new Error(`route ${spec.method.toUpperCase()} ${spec.path}: operationId ${operationId} is taken`);
    // First, so that errors (401, 403, 429, 400) carry it too.
    const chain: RequestHandler[] = spec.cacheable ? [] : [noStore];
    if (spec.access === 'public') {
      if (deps.publicLimiter && !spec.noRateLimit) chain.push(deps.publicLimiter);
    } else {
      const opts: AuthenticateOptions = { countRequest: !!deps.authenticatorCounts && !spec.noRateLimit, adminOnly: spec.access === 'admin' };
      chain.push(async (req, res, next) => {
        const user = await deps.authenticate(req, opts);
        res.locals.user = user;
        if (spec.access === 'admin' && user.role !== 'admin') throw new ForbiddenError();
        next();
      });
      if (deps.userLimiter && !deps.authenticatorCounts && !spec.noRateLimit) chain.push(deps.userLimiter);
    }
    chain.push(...(spec.middleware ?? []));
    chain.push(async (req: Request, res: Response, _next: NextFunction) => {
      const params = parsePart(spec.params, req.params, 'params');
      const query = parsePart(spec.query, req.query, 'query');
      const body = spec.body ? parsePart(spec.body, req.body, 'body') : undefined;
      const idempotencyKey = spec.idempotent ? idempotencyKeyOf(req.headers['idempotency-key']) : undefined;
      const user = res.locals.user as AuthUser | undefined;
      const input = {
        params: params as z.output<P>,
        query: query as z.output<Q>,
        body: body as z.output<B>,
        facts: requestFacts(req),
        idempotencyKey,
        req,
        res,
        ...(user ? { user, write: userWrite(user.id, req) } : {}),
      };
      // Authentication above guarantees `user` on every non-public route, as RouteInput<…, A> says.
      const result = await spec.handler(input as RouteInput<z.output<P>, z.output<Q>, z.output<B>, A>);
      if (res.headersSent) return;
      if (result instanceof Reply) {
        if (!(result.status in spec.responses)) throw new Error(`route ${spec.method.toUpperCase()} ${spec.path} replied ${result.status}, which it does not declare`);
        res.status(result.status).json(result.body);
      } else if (result !== undefined) res.status(spec.status ?? 200).json(result);
      else res.status(spec.status ?? 204).end();
    });
    router[spec.method](spec.path, ...chain);
    routes.push({ method: spec.method, path: spec.path, access: spec.access, cacheable: spec.cacheable === true, hasBody: spec.body !== undefined, operationId, tags: spec.tags });

    const responses: Record<string, object> = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      // An error a route declares without a body schema is, like every error here, a problem document.
      const schema = r.schema ?? (Number(status) >= 400 ? problemSchema : undefined);
      const contentType = r.contentType ?? (r.schema ? 'application/json' : 'application/problem+json');
      const content = schema ? { [contentType]: { schema }, ...Object.fromEntries((r.alternatives ?? []).map((a) => [a.contentType, { schema: a.schema }])) } : undefined;
      responses[status] = content ? { description: r.description, content } : { description: r.description };
    }
    // 404 wherever an id comes in: in the path, or in the body of a signed-in write (another user's id is "not found").
    const takesIds = spec.path.includes(':') || (spec.access !== 'public' && spec.body !== undefined);
    const errorStatuses = [400, 429, ...(spec.access === 'public' ? [] : [401, 403]), ...(takesIds ? [404] : []), ...(spec.body ? [413] : [])];
    for (const s of errorStatuses) {
      responses[String(s)] ??= {
        description: COMMON_ERRORS[s],
        content: { 'application/problem+json': { schema: problemSchema } },
      };
    }
    openapi.registerPath({
      method: spec.method,
      path: toOpenApiPath(spec.path),
      operationId,
      summary: spec.summary,
      tags: spec.tags,
      description: `Access: ${spec.access}.`,
      security: spec.access === 'public' ? [] : [{ bearer: [] }],
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.headers || spec.idempotent ? { headers: spec.idempotent ? idempotencyHeaders.extend(spec.headers?.shape ?? {}) : spec.headers } : {}),
        ...(spec.body ? { body: { content: { 'application/json': { schema: spec.body } }, required: true } } : {}),
      },
      responses,
    });
  }

  return { add, router, openapi, routes };
}

const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};
/** `get /accounts/:id/history` → `getAccountsByIdHistory`: unique per route, stable while the route is. */
export function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter(Boolean)
    .flatMap((seg) => (seg.startsWith(':') ? ['by', seg.slice(1)] : seg.split(/[^A-Za-z0-9]+/)))
    .filter(Boolean);
  return method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** zod helpers used by every feature's schemas. */
export const uuidParam = z.object({ id: z.uuid({ message: 'must be a UUID' }) }).strict();
export const listQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
};
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(isDateString, 'must be a real calendar date')
  .meta({ format: 'date', example: '2026-01-31' });

export function page<T extends ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() });
}
