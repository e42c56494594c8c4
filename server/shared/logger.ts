import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { pino, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';

/** The fields of pino's serialized request (typed `any` by pino-http) that the request log keeps. */
interface SerializedRequest {
  id: unknown;
  method: string;
  url: string;
  headers: Record<string, unknown>;
  remoteAddress: string | undefined;
}

/** Paths never written to a log line, whatever logs them. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.passwordHash',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.totp',
  '*.secret',
  '*.recoveryCode',
  'password',
  'token',
];

/** A key that names a credential, at any depth: its string value (or list of strings) never reaches the log. */
const SECRET_KEY = '[^"\\\\]*(?:password|token|secret|authorization|cookie|totp|recoverycode|otpauth)[^"\\\\]*';
const JSON_STRING = '"(?:[^"\\\\]|\\\\.)*"';
const SECRET_FIELD = new RegExp(`"(${SECRET_KEY})":(?:${JSON_STRING}|\\[(?:\\s*${JSON_STRING}\\s*,?)*\\])`, 'gi');
/** A token in the query of a URL-like field (a request line, a link): `?token=…` keeps its name only. */
const URL_FIELD = new RegExp(`"(url|href|link|location|referer|referrer|originalUrl|msg)":(${JSON_STRING})`, 'gi');
const QUERY_SECRET = /([?&](?:[a-z_]*token|code|secret|password)=)[^&#"\\\s]*/gi;

/**
 * The last line of defence, applied to every serialised log line whatever wrote it (serializers,
 * error objects, child bindings): a field named like a credential at any depth is replaced, and so
 * is a token in a URL's query. `REDACT_PATHS` stays for the known places (cheaper, and censors
 * non-string values too).
 */
export function scrubLogLine(line: string): string {
  return line
    .replace(SECRET_FIELD, (_m, key: string) => `"${key}":"[redacted]"`)
    .replace(URL_FIELD, (_m, key: string, value: string) => `"${key}":${value.replace(QUERY_SECRET, '$1[redacted]')}`);
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'numina' }, hooks: { streamWrite: scrubLogLine } },
    destination,
  );
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honours a well-formed incoming X-Request-Id or makes one, echoes it back, and logs with it. */
export function requestLogging(logger: Logger): RequestHandler[] {
  const assignId: RequestHandler = (req, res, next) => {
    const incoming = req.get('x-request-id');
    const id = incoming && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = id;
    res.setHeader('X-Request-Id', id);
    next();
  };
  const http = pinoHttp<Request, Response>({
    logger,
    genReqId: (_req, res) => String(res.locals.requestId),
    customProps: (req) => ({ requestId: req.id }),
    serializers: {
      req: (raw) => {
        const req = raw as SerializedRequest;
        return { id: req.id, method: req.method, url: req.url, headers: req.headers, remoteAddress: req.remoteAddress };
      },
    },
    // 503 is a deliberate answer (overload, database outage: logged once where it is detected), not a fault.
    customLogLevel: (_req, res, err) => (err || (res.statusCode >= 500 && res.statusCode !== 503) ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
  });
  return [assignId, http];
}
