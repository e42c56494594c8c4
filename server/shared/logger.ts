import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { pino, type Logger } from 'pino';

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

declare module 'http' {
  interface IncomingMessage {
    /** The request's logger (its lines carry `req` and `requestId`); made on first use. Declared as pino-http declares it. */
    log: Logger;
  }
}

/** What a request's log lines say about it (as pino-http's serializer kept it): never the body. */
function requestView(req: Request) {
  return { id: req.res?.locals.requestId as string, method: req.method, url: req.originalUrl || req.url, headers: req.headers, remoteAddress: req.socket?.remoteAddress };
}

/**
 * Honours a well-formed incoming X-Request-Id or makes one, echoes it back, and logs each request
 * once it ends — `request completed` (info), 4xx at warn, `request errored` with `err` at error
 * for a 5xx other than 503 (a deliberate answer: overload, database outage, logged once where
 * detected) — the lines pino-http wrote. Unlike pino-http, nothing is built for a line that the
 * level drops: the request's child logger (`req.log`, serialising `req` with its headers) is made
 * only when something logs through it.
 */
export function requestLogging(logger: Logger): RequestHandler[] {
  return [
    (req, res, next) => {
      const incoming = req.get('x-request-id');
      const requestId = incoming && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
      res.locals.requestId = requestId;
      res.setHeader('X-Request-Id', requestId);
      const started = Date.now();
      let child: Logger | undefined;
      Object.defineProperty(req, 'log', {
        configurable: true,
        enumerable: false,
        get: () => (child ??= logger.child({ req: requestView(req), requestId })),
      });
      const done = (err?: Error) => {
        res.removeListener('close', done);
        res.removeListener('finish', done);
        res.removeListener('error', done);
        const failure = err ?? (res as Response & { err?: Error }).err;
        const level = failure || (res.statusCode >= 500 && res.statusCode !== 503) ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
        if (!logger.isLevelEnabled(level)) return;
        const log = req.log;
        const responseTime = Date.now() - started;
        const resView = { statusCode: res.headersSent ? res.statusCode : null, headers: res.getHeaders() };
        if (failure || res.statusCode >= 500) {
          log[level]({ res: resView, err: failure ?? new Error(`failed with status code ${res.statusCode}`), responseTime }, 'request errored');
        } else {
          log[level]({ res: resView, responseTime }, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
        }
      };
      res.on('close', done);
      res.on('finish', done);
      res.on('error', done);
      next();
    },
  ];
}
