import type { ErrorRequestHandler, RequestHandler } from 'express';
import knexLib from 'knex';
import objection from 'objection';
import { ZodError } from 'zod';
import type { Logger } from 'pino';

const { ValidationError: ObjectionValidationError, NotFoundError: ObjectionNotFoundError, DBError } = objection;
const { KnexTimeoutError } = knexLib as unknown as { KnexTimeoutError: new () => Error };

export interface FieldError {
  path: string;
  message: string;
}

/** The one error family. `code` is stable and machine-readable; clients switch on it. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export class ValidationError extends AppError {
  constructor(message = 'The request is not valid.', errors: FieldError[] = []) {
    super(400, 'validation_failed', message, errors);
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'Missing, invalid or expired credentials.', code = 'unauthorized') {
    super(401, code, message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message = 'You do not have the role this needs.', code = 'forbidden') {
    super(403, code, message);
  }
}
export class NotFoundError extends AppError {
  constructor(message = 'Not found.') {
    super(404, 'not_found', message);
  }
}
export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}
/** The server is overloaded (no database connection came free in time): retry shortly. */
export class UnavailableError extends AppError {
  constructor(message = 'The service is busy. Try again shortly.', retryAfterSeconds = 1) {
    super(503, 'unavailable', message, undefined, { 'Retry-After': String(retryAfterSeconds) });
  }
}
/**
 * The database cannot be reached (stopped, restarting, failing over): not the request's fault and
 * not a bug. Not logged per request: the pool watcher (`watchDatabase`) logs an outage once.
 */
export class DatabaseUnavailableError extends UnavailableError {
  constructor() {
    super('The database is unavailable. Try again shortly.', 5);
  }
}

/** Socket-level failures reaching the database server. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** pg's own wording for a connection that went away (it carries no code). */
const UNREACHABLE_MESSAGES = [/^Connection terminated/, /connection error and is not queryable/, /^Client was closed and is not queryable/];

/**
 * True when `err` says the database is unreachable rather than that the statement was wrong:
 * connection refused/reset, SQLSTATE class 08 (connection exception), 57P01 admin_shutdown,
 * 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  if (err instanceof AggregateError) return err.errors.length > 0 && err.errors.every(isDatabaseUnavailable);
  const e = err as { code?: unknown; message?: unknown; nativeError?: unknown };
  if (e.nativeError && e.nativeError !== err && isDatabaseUnavailable(e.nativeError)) return true;
  if (typeof e.code === 'string') {
    if (UNREACHABLE_CODES.has(e.code)) return true;
    if (/^08...$/.test(e.code) || ['57P01', '57P02', '57P03', '53300'].includes(e.code)) return true;
  }
  return typeof e.message === 'string' && UNREACHABLE_MESSAGES.some((re) => re.test(e.message as string));
}
export class RateLimitedError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests. Try again later.') {
    super(429, 'rate_limited', message, undefined, { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function zodToFieldErrors(err: ZodError, prefix = ''): FieldError[] {
  return err.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'),
    message: i.message,
  }));
}

/**
 * PostgreSQL SQLSTATE classes we can attribute to the request rather than to the server.
 * Mapped by code, never by message text.
 */
function fromPg(err: { code?: string; constraint?: string }): AppError | null {
  switch (err.code) {
    case 'NE001': // the row's user was erased meanwhile (migration …_refuse_rows_of_erased_users)
      return new UnauthorizedError('This account no longer exists.');
    case '23505':
      return new ConflictError('A record with these values already exists.', 'duplicate');
    case '23503':
      return new NotFoundError('A referenced record does not exist.');
    case '23514':
    case '23502':
      return new ValidationError('The values break a rule of the data.', []);
    case '22P02': // invalid_text_representation
    case '22007': // invalid_datetime_format
    case '22008': // datetime_field_overflow
    case '22003': // numeric_value_out_of_range
    case '22001': // string_data_right_truncation
    case '22023': // invalid_parameter_value
    case '22021': // character_not_in_repertoire
    case '22P05': // untranslatable_character (e.g. \u0000 in jsonb)
    case '22004': // null_value_not_allowed
      return new ValidationError('A value has the wrong form.', []);
    default:
      return null;
  }
}

/** Turns anything thrown into an AppError; unknown errors become an opaque 500. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return new ValidationError('The request is not valid.', zodToFieldErrors(err));
  if (err instanceof ObjectionValidationError) return new ValidationError('The request is not valid.', []);
  if (err instanceof ObjectionNotFoundError) return new NotFoundError();
  // Overload, not a fault: every pooled connection stayed busy past the acquire timeout.
  if (err instanceof KnexTimeoutError) return new UnavailableError();
  if (isDatabaseUnavailable(err)) return new DatabaseUnavailableError();
  const anyErr = err as { type?: string; status?: number; statusCode?: number; expose?: boolean; code?: string; nativeError?: unknown };
  // body-parser / raw-body errors carry a `type` and a client status.
  if (anyErr?.type === 'entity.too.large') return new AppError(413, 'payload_too_large', 'The request body is too large.');
  if (anyErr?.type === 'entity.parse.failed') return new ValidationError('The request body is not valid JSON.', [{ path: '', message: 'malformed JSON' }]);
  if (anyErr?.type === 'encoding.unsupported' || anyErr?.type === 'charset.unsupported')
    return new AppError(415, 'unsupported_media_type', 'The body encoding is not supported.');
  // Any error its library marks as the client's (http-errors' `expose`), e.g. a malformed gzip,
  // deflate or br body that body-parser failed to inflate, keeps its 4xx: user input is never a 5xx.
  const clientStatus = anyErr?.status ?? anyErr?.statusCode ?? 500;
  if ((typeof anyErr?.type === 'string' || anyErr?.expose === true) && clientStatus >= 400 && clientStatus < 500)
    return new AppError(clientStatus, 'bad_request', 'The request could not be read.');
  const pgErr = err instanceof DBError ? (anyErr.nativeError as { code?: string }) : (err as { code?: string });
  const mapped = pgErr && typeof pgErr.code === 'string' ? fromPg(pgErr) : null;
  if (mapped) return mapped;
  return new AppError(500, 'internal_error', 'Something went wrong on our side.');
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  instance?: string;
  requestId?: string;
}

export function problemOf(err: AppError, requestId?: string): Problem {
  return {
    type: `https://numina.dev/problems/${err.code.replace(/_/g, '-')}`,
    title: TITLES[err.status] ?? 'Error',
    status: err.status,
    detail: err.message,
    code: err.code,
    ...(err.errors ? { errors: err.errors } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

export function sendProblem(res: Parameters<RequestHandler>[1], err: AppError): void {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.status(err.status).type('application/problem+json').send(JSON.stringify(problemOf(err, res.locals.requestId as string | undefined)));
}

export const notFoundHandler: RequestHandler = (_req, _res, next) => {
  next(new AppError(404, 'not_found', 'No such route.'));
};

/** The last middleware: renders every error as RFC 9457 problem details. Never leaks internals. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appErr = toAppError(err);
    // A database outage is logged once by the pool watcher, not once per request.
    if (appErr instanceof DatabaseUnavailableError) (req.log ?? logger).debug({ err }, 'request failed: database unavailable');
    else if (appErr.status >= 500) (req.log ?? logger).error({ err }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, appErr);
  };
}
